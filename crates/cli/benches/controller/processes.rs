//! The processes a run drives (mpc serve, nginx, the tools) and what they use.

use crate::*;

/// A program from PATH or the sbin directories (nginx lives in /usr/sbin, often not on a
/// user's PATH).
pub(crate) fn find_tool(name: &str) -> Result<PathBuf> {
    let path = std::env::var("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/usr/local/sbin", "/sbin"].map(PathBuf::from))
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
        .ok_or_else(|| {
            format!("{name} not found: install it with `apt-get install wrk nginx-light` (Debian)")
        })
}

/// A child process stopped (SIGTERM, then waited for) when dropped, also on errors.
pub(crate) struct Process {
    pub(crate) name: &'static str,
    pub(crate) child: Child,
}

impl Process {
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        eprintln!("{} did not stop on SIGTERM; killing it", self.name);
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn free_port() -> Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    Ok(listener.local_addr().map_err(|e| e.to_string())?.port())
}

/// Starts `mpc serve` on a free port; its log goes to `log` in `dir`.
pub(crate) fn start_mpc(
    db_url: &str,
    dir: &Path,
    log: &str,
    env: &[(&str, &str)],
) -> Result<(Process, SocketAddr)> {
    let log = std::fs::File::create(dir.join(log)).map_err(|e| e.to_string())?;
    let mut child = Command::new(MPC)
        .envs(env.iter().copied())
        .args(["--database-url", db_url, "serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()
        .map_err(|e| format!("cannot start mpc serve: {e}"))?;
    let stdout = child.stdout.take().expect("piped");
    let server = Process {
        name: "mpc serve",
        child,
    };
    let mut lines = BufReader::new(stdout).lines();
    let first = lines
        .next()
        .and_then(|l| l.ok())
        .ok_or("mpc serve printed nothing; see its log")?;
    let addr = first
        .split("http://")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|a| a.parse().ok())
        .ok_or_else(|| format!("cannot read the address from {first:?}"))?;
    // Keep reading, so the server never blocks on a full pipe.
    std::thread::spawn(move || lines.for_each(drop));
    Ok((server, addr))
}

/// Starts nginx serving `recipe` at the device path, from a configuration in `dir` that names
/// only paths in `dir`.
pub(crate) fn start_nginx(
    nginx: &Path,
    dir: &Path,
    recipe: &[u8],
) -> Result<(Process, SocketAddr)> {
    let io = |e: std::io::Error| e.to_string();
    let root = dir.join("nginx");
    let www = root.join("www");
    std::fs::create_dir_all(www.join("device/v1")).map_err(io)?;
    std::fs::create_dir_all(root.join("tmp")).map_err(io)?;
    std::fs::write(www.join("device/v1/config"), recipe).map_err(io)?;
    // nginx's workers run as an unprivileged user when started as root: let them read the file.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for (path, mode) in [
            (dir, 0o711),
            (root.as_path(), 0o755),
            (www.as_path(), 0o755),
            (www.join("device").as_path(), 0o755),
            (www.join("device/v1").as_path(), 0o755),
            (www.join("device/v1/config").as_path(), 0o644),
        ] {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).map_err(io)?;
        }
    }
    let port = free_port()?;
    let tmp = root.join("tmp");
    let conf = format!(
        "worker_processes auto;
daemon off;
pid {root}/nginx.pid;
error_log {root}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    open_file_cache max=16;
    server {{
        listen 127.0.0.1:{port};
        root {www};
        location / {{
            default_type \"text/plain; charset=utf-8\";
            add_header Cache-Control no-cache;
        }}
    }}
}}
",
        root = root.display(),
        tmp = tmp.display(),
        www = www.display(),
    );
    let conf_path = root.join("nginx.conf");
    std::fs::write(&conf_path, conf).map_err(io)?;
    let child = Command::new(nginx)
        .arg("-p")
        .arg(&root)
        .arg("-c")
        .arg(&conf_path)
        .arg("-e")
        .arg(root.join("error.log"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start nginx: {e}"))?;
    let process = Process {
        name: "nginx",
        child,
    };
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let deadline = Instant::now() + Duration::from_secs(10);
    while TcpStream::connect(addr).is_err() {
        if Instant::now() > deadline {
            let log = std::fs::read_to_string(root.join("error.log")).unwrap_or_default();
            return Err(format!("nginx did not start: {log}"));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok((process, addr))
}

pub(crate) struct Rss {
    pub(crate) current: f64,
    pub(crate) peak: f64,
}

/// VmRSS and VmHWM of a process, in MiB.
pub(crate) fn rss(pid: u32) -> Result<Rss> {
    let status =
        std::fs::read_to_string(format!("/proc/{pid}/status")).map_err(|e| e.to_string())?;
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|kb| kb.parse::<f64>().ok())
            .map_or(f64::NAN, |kb| kb / 1024.0)
    };
    Ok(Rss {
        current: field("VmRSS:"),
        peak: field("VmHWM:"),
    })
}
