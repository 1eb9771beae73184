//! The SMFv2 listener's certificates: a CA and a server certificate that the client accepts,
//! made by `mpc smfv2 ca init`, and read back from the same directory by `mpc serve`.
//!
//! The client trusts exactly one CA and checks no host name. For the Location Server it also
//! demands that every certificate of the chain be named `CN=ARMS Root CA` or
//! `CN=Location Server …`; the Resource Server and the tunnel have no name rule but are checked
//! against the CA the LS handed out in its Location-Config, which must stay under 2048 bytes with
//! the line block: so the CA is an EC P-256 certificate (about 600 bytes of PEM), and one server
//! certificate named for the LS serves the LS and the RS alike.

use std::io::Write as _;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use openssl::asn1::Asn1Time;
use openssl::bn::{BigNum, MsbOption};
use openssl::ec::{EcGroup, EcKey};
use openssl::error::ErrorStack;
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private};
use openssl::x509::extension::{
    AuthorityKeyIdentifier, BasicConstraints, ExtendedKeyUsage, KeyUsage, SubjectAlternativeName,
    SubjectKeyIdentifier,
};
use openssl::x509::{X509, X509Name, X509NameRef};

/// The CA's common name: one of the two names the client accepts on an LS chain.
pub const CA_NAME: &str = "ARMS Root CA";

/// The server certificate's common name: the other accepted name (`Location Server ` and any
/// suffix).
pub const SERVER_NAME: &str = "Location Server mpc";

/// The CA certificate (PEM), handed to devices in the Location-Config.
pub const CA_FILE: &str = "ca.pem";
/// The CA's private key: only needed to issue server certificates; keep it offline.
pub const CA_KEY_FILE: &str = "ca-key.pem";
/// The server certificate chain (PEM): the server certificate, then the CA.
pub const CERT_FILE: &str = "server.pem";
/// The server's private key (PEM).
pub const KEY_FILE: &str = "server-key.pem";

/// Why certificates could not be made or read.
#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{} exists already: ca init never overwrites a key or certificate", .0.display())]
    Exists(PathBuf),
    #[error("OpenSSL: {0}")]
    Tls(#[from] ErrorStack),
    #[error("{0}")]
    Invalid(String),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> PkiError + '_ {
    move |source| PkiError::Io {
        path: path.to_owned(),
        source,
    }
}

fn p256_key() -> Result<PKey<Private>, ErrorStack> {
    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1)?;
    PKey::from_ec_key(EcKey::generate(&group)?)
}

fn name(common_name: &str) -> Result<X509Name, ErrorStack> {
    let mut name = X509Name::builder()?;
    name.append_entry_by_nid(Nid::COMMONNAME, common_name)?;
    Ok(name.build())
}

fn serial() -> Result<openssl::asn1::Asn1Integer, ErrorStack> {
    let mut n = BigNum::new()?;
    n.rand(63, MsbOption::MAYBE_ZERO, false)?;
    n.to_asn1_integer()
}

/// A self-signed CA named [`CA_NAME`], valid twenty years.
fn make_ca() -> Result<(X509, PKey<Private>), ErrorStack> {
    let key = p256_key()?;
    let subject = name(CA_NAME)?;
    let mut cert = X509::builder()?;
    cert.set_version(2)?;
    cert.set_serial_number(&*serial()?)?;
    cert.set_subject_name(&subject)?;
    cert.set_issuer_name(&subject)?;
    cert.set_pubkey(&key)?;
    cert.set_not_before(&*Asn1Time::days_from_now(0)?)?;
    cert.set_not_after(&*Asn1Time::days_from_now(20 * 365)?)?;
    cert.append_extension(BasicConstraints::new().critical().ca().build()?)?;
    cert.append_extension(
        KeyUsage::new()
            .critical()
            .key_cert_sign()
            .crl_sign()
            .build()?,
    )?;
    let ski = SubjectKeyIdentifier::new().build(&cert.x509v3_context(None, None))?;
    cert.append_extension(ski)?;
    cert.sign(&key, MessageDigest::sha256())?;
    Ok((cert.build(), key))
}

/// A server certificate named [`SERVER_NAME`], signed by the CA, valid ten years, with the
/// given host names and addresses as subject alternative names (the SMFv2 client checks none,
/// other clients may).
fn make_server(
    ca: &X509,
    ca_key: &PKey<Private>,
    names: &[String],
) -> Result<(X509, PKey<Private>), ErrorStack> {
    let key = p256_key()?;
    let mut cert = X509::builder()?;
    cert.set_version(2)?;
    cert.set_serial_number(&*serial()?)?;
    cert.set_subject_name(&*name(SERVER_NAME)?)?;
    cert.set_issuer_name(ca.subject_name())?;
    cert.set_pubkey(&key)?;
    cert.set_not_before(&*Asn1Time::days_from_now(0)?)?;
    cert.set_not_after(&*Asn1Time::days_from_now(10 * 365)?)?;
    cert.append_extension(BasicConstraints::new().build()?)?;
    cert.append_extension(
        KeyUsage::new()
            .critical()
            .digital_signature()
            .key_agreement()
            .build()?,
    )?;
    cert.append_extension(ExtendedKeyUsage::new().server_auth().build()?)?;
    let aki = AuthorityKeyIdentifier::new()
        .keyid(false)
        .build(&cert.x509v3_context(Some(ca), None))?;
    cert.append_extension(aki)?;
    if !names.is_empty() {
        let mut san = SubjectAlternativeName::new();
        for n in names {
            if n.parse::<IpAddr>().is_ok() {
                san.ip(n);
            } else {
                san.dns(n);
            }
        }
        let san = san.build(&cert.x509v3_context(Some(ca), None))?;
        cert.append_extension(san)?;
    }
    cert.sign(ca_key, MessageDigest::sha256())?;
    Ok((cert.build(), key))
}

/// Writes `bytes` to a new file; keys get mode 0600. Never overwrites.
fn write_new(path: &Path, bytes: &[u8], secret: bool) -> Result<(), PkiError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(if secret { 0o600 } else { 0o644 });
    }
    let mut file = options.open(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            PkiError::Exists(path.to_owned())
        } else {
            PkiError::Io {
                path: path.to_owned(),
                source: e,
            }
        }
    })?;
    file.write_all(bytes).map_err(io(path))?;
    file.sync_all().map_err(io(path))
}

/// `mpc smfv2 ca init`: makes a CA and a server certificate in `dir` (created if missing)
/// and returns the files written.
///
/// `names` become the server certificate's subject alternative names (IP addresses or DNS
/// names). Nothing is overwritten: with any of the four files present, nothing is written.
///
/// # Errors
/// [`PkiError::Exists`] when a file is there already; I/O and OpenSSL errors.
pub fn init(dir: &Path, names: &[String]) -> Result<Vec<PathBuf>, PkiError> {
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let paths: Vec<PathBuf> = [CA_FILE, CA_KEY_FILE, CERT_FILE, KEY_FILE]
        .iter()
        .map(|f| dir.join(f))
        .collect();
    if let Some(p) = paths.iter().find(|p| p.exists()) {
        return Err(PkiError::Exists(p.clone()));
    }
    let (ca, ca_key) = make_ca()?;
    let (server, server_key) = make_server(&ca, &ca_key, names)?;
    let ca_pem = ca.to_pem()?;
    let mut chain = server.to_pem()?;
    chain.extend_from_slice(&ca_pem);
    // Keys first: a run stopped half-way leaves no certificate without its key.
    write_new(&paths[1], &ca_key.private_key_to_pem_pkcs8()?, true)?;
    write_new(&paths[3], &server_key.private_key_to_pem_pkcs8()?, true)?;
    write_new(&paths[0], &ca_pem, false)?;
    write_new(&paths[2], &chain, false)?;
    Ok(paths)
}

/// The listener's certificate material, as read from its directory.
#[derive(Debug, Clone)]
pub struct Material {
    /// The server certificate chain file.
    pub cert_chain: PathBuf,
    /// The server key file.
    pub key: PathBuf,
    /// The CA certificate, as the PEM text devices receive.
    pub ca_pem: String,
    /// Whether every certificate of the chain meets the LS name rule; a chain that does not
    /// can still serve as an RS for devices whose LS is elsewhere.
    pub ls_names_ok: bool,
}

/// Whether a subject names itself as the client accepts on an LS chain.
pub fn meets_ls_name_rule(subject: &X509NameRef) -> bool {
    subject.entries_by_nid(Nid::COMMONNAME).any(|e| {
        e.data()
            .to_string()
            .is_ok_and(|cn| cn == CA_NAME || cn.starts_with("Location Server "))
    })
}

/// Reads the certificate material from `dir` ([`CERT_FILE`], [`KEY_FILE`], [`CA_FILE`]) and
/// checks that the server certificate is signed by the CA and matches its key.
///
/// # Errors
/// Missing or unreadable files, a certificate that the CA did not sign, a key that does not
/// match.
pub fn load(dir: &Path) -> Result<Material, PkiError> {
    let read = |file: &str| {
        let path = dir.join(file);
        std::fs::read(&path).map_err(io(&path)).map(|b| (path, b))
    };
    let (cert_chain, chain_pem) = read(CERT_FILE)?;
    let (key, key_pem) = read(KEY_FILE)?;
    let (_, ca_bytes) = read(CA_FILE)?;
    let chain = X509::stack_from_pem(&chain_pem)?;
    let ca = X509::from_pem(&ca_bytes)?;
    let server = chain
        .first()
        .ok_or_else(|| PkiError::Invalid(format!("{CERT_FILE} holds no certificate")))?;
    if !server.verify(&*ca.public_key()?)? {
        return Err(PkiError::Invalid(format!(
            "the certificate in {CERT_FILE} is not signed by the CA in {CA_FILE}"
        )));
    }
    let private = PKey::private_key_from_pem(&key_pem)?;
    if !server.public_key()?.public_eq(&private) {
        return Err(PkiError::Invalid(format!(
            "{KEY_FILE} is not the key of the certificate in {CERT_FILE}"
        )));
    }
    let ls_names_ok = chain.iter().all(|c| meets_ls_name_rule(c.subject_name()))
        && meets_ls_name_rule(ca.subject_name());
    let ca_pem = String::from_utf8(ca.to_pem()?)
        .map_err(|_| PkiError::Invalid(format!("{CA_FILE} is not text")))?;
    Ok(Material {
        cert_chain,
        key,
        ca_pem,
        ls_names_ok,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn init_makes_what_the_client_accepts_and_load_reads_it_back() {
        let dir = tempfile::tempdir().unwrap();
        let names = vec!["127.0.0.1".to_owned(), "smfv2.example".to_owned()];
        let files = init(dir.path(), &names).unwrap();
        assert_eq!(files.len(), 4);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            for (file, mode) in [(KEY_FILE, 0o600), (CA_KEY_FILE, 0o600), (CA_FILE, 0o644)] {
                let meta = std::fs::metadata(dir.path().join(file)).unwrap();
                assert_eq!(meta.permissions().mode() & 0o777, mode, "{file}");
            }
        }
        let material = load(dir.path()).unwrap();
        assert!(material.ls_names_ok);
        // Brief §1.1: EC P-256, so the CA fits the Location-Config with a line block.
        assert!(material.ca_pem.len() < 800, "{}", material.ca_pem.len());
        crate::smfv2::message::location_config("line-dhcp {\n ifindex 1;\n};\n", &material.ca_pem)
            .unwrap();
        let chain = X509::stack_from_pem(&std::fs::read(&material.cert_chain).unwrap()).unwrap();
        let cn = |c: &X509| {
            c.subject_name()
                .entries_by_nid(Nid::COMMONNAME)
                .next()
                .unwrap()
                .data()
                .to_string()
                .unwrap()
        };
        assert_eq!(cn(&chain[0]), SERVER_NAME);
        assert_eq!(cn(&chain[1]), CA_NAME);
        // The next run refuses to overwrite anything.
        assert!(matches!(init(dir.path(), &names), Err(PkiError::Exists(_))));
    }

    #[test]
    fn load_refuses_a_certificate_of_another_ca() {
        let (a, b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        init(a.path(), &[]).unwrap();
        init(b.path(), &[]).unwrap();
        std::fs::copy(b.path().join(CA_FILE), a.path().join(CA_FILE)).unwrap();
        assert!(matches!(load(a.path()), Err(PkiError::Invalid(_))));
    }

    #[test]
    fn the_ls_name_rule_is_the_clients() {
        for (cn, ok) in [
            ("ARMS Root CA", true),
            ("Location Server mpc", true),
            ("Location Server ", true),
            ("Location Server", false),
            ("Resource Server mpc", false),
        ] {
            assert_eq!(meets_ls_name_rule(&name(cn).unwrap()), ok, "{cn}");
        }
    }
}
