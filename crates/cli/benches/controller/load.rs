//! The fleet and the load: signed requests, the first fetch of every device, and wrk runs
//! with their results.

use crate::*;

pub(crate) struct Device {
    pub(crate) serial: String,
    pub(crate) secret: String,
}

pub(crate) fn read_fleet(path: &Path) -> Result<Vec<Device>> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(text
        .lines()
        .filter_map(|line| {
            let mut fields = line.split(',');
            let serial = fields.next()?.to_owned();
            let _model = fields.next()?;
            let secret = fields.next()?.to_owned();
            Some(Device { serial, secret })
        })
        .collect())
}

/// A plain HTTP/1.0 GET: status line, headers and body as text.
pub(crate) fn http_get(addr: SocketAddr, path: &str) -> Result<String> {
    let mut stream = TcpStream::connect(addr).map_err(|e| e.to_string())?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").map_err(|e| e.to_string())?;
    let mut reply = String::new();
    stream
        .read_to_string(&mut reply)
        .map_err(|e| e.to_string())?;
    Ok(reply)
}

pub(crate) fn etag_of(addr: SocketAddr) -> Result<String> {
    let reply = http_get(addr, PATH)?;
    reply
        .lines()
        .find_map(|l| {
            l.strip_prefix("ETag: ")
                .or_else(|| l.strip_prefix("etag: "))
        })
        .map(|t| t.trim().to_owned())
        .ok_or_else(|| format!("nginx gave no ETag: {reply}"))
}

/// Requests the server answered on the device path, by status, from its Prometheus metrics.
pub(crate) fn answers(addr: SocketAddr) -> Result<BTreeMap<String, u64>> {
    let text = http_get(addr, "/metrics")?;
    let mut out = BTreeMap::new();
    for line in text.lines() {
        let Some(rest) = line.strip_prefix("http_requests_total{") else {
            continue;
        };
        if !rest.contains(&format!("route=\"{PATH}\"")) {
            continue;
        }
        let status = rest
            .split("status=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .unwrap_or("?");
        let count: u64 = line
            .rsplit(' ')
            .next()
            .and_then(|n| n.parse::<f64>().ok())
            .map_or(0, |n| n as u64);
        *out.entry(status.to_owned()).or_default() += count;
    }
    Ok(out)
}

/// Signs a GET of the configuration as `device`.
pub(crate) fn signed(device: &Device, timestamp: &str, nonce: &str) -> String {
    let canonical = auth::canonical("GET", PATH, timestamp, nonce, &device.serial, b"");
    auth::sign(device.secret.as_bytes(), &canonical)
}

/// Fetches every device's configuration once; returns their ETags and the first body.
pub(crate) async fn fetch_all(
    addr: SocketAddr,
    fleet: &[Device],
    nonce_prefix: &'static str,
) -> Result<(Vec<String>, Vec<u8>)> {
    let client = reqwest::Client::new();
    let next = Arc::new(AtomicUsize::new(0));
    let fleet: Arc<Vec<(String, String)>> = Arc::new(
        fleet
            .iter()
            .map(|d| (d.serial.clone(), d.secret.clone()))
            .collect(),
    );
    let mut tasks = Vec::new();
    for _ in 0..32 {
        let (client, next, fleet) = (client.clone(), next.clone(), fleet.clone());
        tasks.push(tokio::spawn(async move {
            let mut got = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some((serial, secret)) = fleet.get(i) else {
                    return Ok::<_, String>(got);
                };
                let device = Device {
                    serial: serial.clone(),
                    secret: secret.clone(),
                };
                let ts = jiff::Timestamp::now().as_second().to_string();
                let nonce = format!("{nonce_prefix}{i:012}");
                let reply = client
                    .get(format!("http://{addr}{PATH}"))
                    .header(auth::SERIAL_HEADER, serial)
                    .header(auth::TIMESTAMP_HEADER, &ts)
                    .header(auth::NONCE_HEADER, &nonce)
                    .header(auth::SIGNATURE_HEADER, signed(&device, &ts, &nonce))
                    .send()
                    .await
                    .map_err(|e| e.to_string())?;
                if reply.status() != 200 {
                    return Err(format!(
                        "{serial}: HTTP {}: {}",
                        reply.status(),
                        reply.text().await.unwrap_or_default()
                    ));
                }
                let etag = reply
                    .headers()
                    .get("etag")
                    .and_then(|v| v.to_str().ok())
                    .ok_or("no ETag")?
                    .to_owned();
                let body = reply.bytes().await.map_err(|e| e.to_string())?;
                got.push((i, etag, body));
            }
        }));
    }
    let mut etags = vec![String::new(); fleet.len()];
    let mut first = Vec::new();
    for t in tasks {
        for (i, etag, body) in t.await.map_err(|e| e.to_string())?? {
            if i == 0 {
                first = body.to_vec();
            }
            etags[i] = etag;
        }
    }
    Ok((etags, first))
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Download,
    Poll,
}

/// What wrk reported for one run.
pub(crate) struct Wrk {
    pub(crate) rate: f64,
    pub(crate) p50: String,
    pub(crate) p99: String,
    pub(crate) wrapped: u64,
    pub(crate) errors: u64,
}

pub(crate) struct Runs<'a> {
    pub(crate) s: &'a Settings,
    pub(crate) wrk: &'a Path,
    pub(crate) dir: &'a Path,
    pub(crate) fleet: &'a [Device],
    pub(crate) etags: &'a [String],
    pub(crate) mpc: SocketAddr,
    pub(crate) nginx: SocketAddr,
    pub(crate) nginx_etag: String,
    pub(crate) lua: PathBuf,
    /// Requests signed so far: every nonce is new.
    pub(crate) generated: usize,
    /// Requests per second mpc answered in the warm-up.
    pub(crate) rate_hint: f64,
    /// Starts every nonce, so runs against other nodes of one database never share one.
    pub(crate) nonce_prefix: &'static str,
}

impl Runs<'_> {
    /// Writes `count` signed requests, one file per wrk thread, device after device in a
    /// scattered order that visits the whole fleet before any device repeats; timestamps
    /// spread over the last 30 seconds, so they stay valid minutes after.
    pub(crate) fn write_requests(&mut self, count: usize) -> Result<PathBuf> {
        let path = self.dir.join(format!("requests-{}", self.nonce_prefix));
        let mut files = (0..self.s.threads)
            .map(|t| {
                std::fs::File::create(path.with_extension(t.to_string()))
                    .map(std::io::BufWriter::new)
                    .map_err(|e| e.to_string())
            })
            .collect::<Result<Vec<_>>>()?;
        let now = jiff::Timestamp::now().as_second();
        let n = self.fleet.len();
        // 7919 is prime and does not divide a fleet of 100,000, so i * 7919 mod n is a
        // permutation; fall back to stride 1 when it divides n.
        let stride = if n.is_multiple_of(7919) { 1 } else { 7919 };
        for k in 0..count {
            let i = (k * stride) % n;
            let device = &self.fleet[i];
            let ts = (now - (k % 30) as i64).to_string();
            let nonce = format!("{}{:015x}", self.nonce_prefix, self.generated + k);
            let sig = signed(device, &ts, &nonce);
            let file = k % files.len();
            writeln!(
                files[file],
                "{} {ts} {nonce} {sig} {}",
                device.serial, self.etags[i]
            )
            .map_err(|e| e.to_string())?;
        }
        for mut f in files {
            f.flush().map_err(|e| e.to_string())?;
        }
        self.generated += count;
        Ok(path)
    }

    pub(crate) fn wrk(
        &self,
        addr: SocketAddr,
        seconds: u64,
        requests: &Path,
        mode: &str,
    ) -> Result<Wrk> {
        let out = Command::new(self.wrk)
            .arg(format!("-t{}", self.s.threads))
            .arg(format!("-c{}", self.s.connections))
            .arg(format!("-d{seconds}s"))
            .arg("--latency")
            .arg("-s")
            .arg(&self.lua)
            .arg(format!("http://{addr}"))
            .arg("--")
            .arg(requests)
            .arg(mode)
            .output()
            .map_err(|e| format!("cannot run wrk: {e}"))?;
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        if !out.status.success() {
            return Err(format!(
                "wrk failed: {text}{}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        let find = |prefix: &str| {
            text.lines()
                .find_map(|l| l.trim().strip_prefix(prefix).map(|v| v.trim().to_owned()))
        };
        let rate = find("Requests/sec:")
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| format!("no rate in wrk's output: {text}"))?;
        let number = |v: Option<String>| {
            v.and_then(|v| v.split_whitespace().next()?.parse().ok())
                .unwrap_or(0)
        };
        let socket_errors = find("Socket errors:").map_or(0, |v| {
            v.split(',')
                .filter_map(|part| part.split_whitespace().last()?.parse::<u64>().ok())
                .sum()
        });
        Ok(Wrk {
            rate,
            p50: find("50%").unwrap_or_default(),
            p99: find("99%").unwrap_or_default(),
            wrapped: number(find("wrapped:")),
            errors: number(find("Non-2xx or 3xx responses:")) + socket_errors,
        })
    }

    /// nginx and then mpc, with the same requests; the count mpc answered by status.
    pub(crate) fn pair(
        &mut self,
        kind: Kind,
        seconds: u64,
        count: usize,
    ) -> Result<(Wrk, Wrk, String)> {
        let requests = self.write_requests(count)?;
        let nginx_mode = match kind {
            Kind::Download => "none".to_owned(),
            Kind::Poll => self.nginx_etag.clone(),
        };
        let nginx = self.wrk(self.nginx, seconds, &requests, &nginx_mode)?;
        let before = answers(self.mpc)?;
        let mpc_mode = match kind {
            Kind::Download => "none",
            Kind::Poll => "own",
        };
        let mpc = self.wrk(self.mpc, seconds, &requests, mpc_mode)?;
        let after = answers(self.mpc)?;
        let counted: Vec<String> = after
            .iter()
            .map(|(status, n)| (status, n - before.get(status).copied().unwrap_or(0)))
            .filter(|(_, n)| *n > 0)
            .map(|(status, n)| format!("{status}: {n}"))
            .collect();
        if nginx.errors > 0 {
            eprintln!("warning: nginx answered {} errors", nginx.errors);
        }
        if mpc.wrapped > 0 || mpc.errors > 0 {
            eprintln!(
                "warning: mpc run sent {} requests twice (too few signed) and got {} errors",
                mpc.wrapped, mpc.errors
            );
        }
        Ok((nginx, mpc, counted.join(", ")))
    }

    /// One measured pair, with enough signed requests for mpc's rate in the warm-up (with room
    /// for a faster run, and for one wrk thread sending more than its share).
    pub(crate) fn measure(&mut self, kind: Kind) -> Result<(Wrk, Wrk, String)> {
        let count = (self.rate_hint * self.s.seconds as f64 * 2.0) as usize + 100_000;
        let (nginx, mpc, counted) = self.pair(kind, self.s.seconds, count)?;
        let name = match kind {
            Kind::Download => "full download",
            Kind::Poll => "poll (304)",
        };
        println!(
            "{name}: nginx {:.0}/s (p50 {}, p99 {}), mpc {:.0}/s (p50 {}, p99 {}): {:.2}× nginx; mpc answered {counted}",
            nginx.rate,
            nginx.p50,
            nginx.p99,
            mpc.rate,
            mpc.p50,
            mpc.p99,
            mpc.rate / nginx.rate
        );
        Ok((nginx, mpc, counted))
    }
}
