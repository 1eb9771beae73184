//! The key that seals secrets at rest, and where it comes from.

use std::path::{Path, PathBuf};

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};

use crate::{Result, StorageError};

/// The environment variable holding the key as 64 hex digits.
pub const KEY_ENV: &str = "MPC_SECRET_KEY";
/// The environment variable naming a file that holds the key as 64 hex digits.
pub const KEY_FILE_ENV: &str = "MPC_SECRET_KEY_FILE";

/// The 256-bit key that seals secrets at rest.
#[derive(Clone)]
pub struct SecretKey(XChaCha20Poly1305);

/// Where a [`SecretKey`] came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    Env,
    File(PathBuf),
    /// Generated on this start and written to this file.
    Generated(PathBuf),
}

impl SecretKey {
    /// A key from 32 bytes.
    pub fn from_bytes(bytes: &[u8; 32]) -> Self {
        Self(XChaCha20Poly1305::new(&(*bytes).into()))
    }

    /// A fresh random key (tests, and the first start).
    pub fn random() -> Self {
        Self::from_bytes(&random_bytes())
    }

    fn from_hex(text: &str, origin: &str) -> Result<Self> {
        let bytes: [u8; 32] = hex::decode(text.trim())
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| {
                StorageError::Corrupt(format!("{origin}: the secret key must be 64 hex digits"))
            })?;
        Ok(Self::from_bytes(&bytes))
    }

    /// The key from `MPC_SECRET_KEY`, else the file named by `MPC_SECRET_KEY_FILE`, else the
    /// file `<database>.key` beside a SQLite database, generated (mode 0600) when absent.
    ///
    /// A PostgreSQL deployment has no file of its own to keep the key beside, and several
    /// nodes must share one key, so there it must be given.
    ///
    /// # Errors
    /// A malformed key, an unreadable or unwritable file, or no key for PostgreSQL.
    pub fn resolve(database_url: &str) -> Result<(Self, KeySource)> {
        if let Ok(hex) = std::env::var(KEY_ENV) {
            return Ok((Self::from_hex(&hex, KEY_ENV)?, KeySource::Env));
        }
        let path = match std::env::var(KEY_FILE_ENV) {
            Ok(path) => PathBuf::from(path),
            Err(_) => {
                let db = database_url
                    .strip_prefix("sqlite://")
                    .or_else(|| database_url.strip_prefix("sqlite:"))
                    .map(|p| p.split('?').next().unwrap_or(p))
                    .ok_or_else(|| {
                        StorageError::Corrupt(format!(
                            "set {KEY_ENV} or {KEY_FILE_ENV}: a PostgreSQL deployment needs the \
                             secret key given explicitly"
                        ))
                    })?;
                let key_path = PathBuf::from(format!("{db}.key"));
                if !key_path.exists() {
                    write_new_key(&key_path)?;
                    let key = Self::from_hex(&read(&key_path)?, &key_path.display().to_string())?;
                    return Ok((key, KeySource::Generated(key_path)));
                }
                key_path
            }
        };
        let key = Self::from_hex(&read(&path)?, &path.display().to_string())?;
        Ok((key, KeySource::File(path)))
    }

    /// Seals `plain`, bound to `context`, as hex of nonce ‖ ciphertext.
    pub fn seal(&self, context: &str, plain: &[u8]) -> String {
        let nonce_bytes: [u8; 24] = random_bytes();
        let nonce = XNonce::from(nonce_bytes);
        let sealed = self
            .0
            .encrypt(
                &nonce,
                Payload {
                    msg: plain,
                    aad: context.as_bytes(),
                },
            )
            .unwrap_or_default();
        let mut out = nonce_bytes.to_vec();
        out.extend(sealed);
        hex::encode(out)
    }

    /// Opens what [`SecretKey::seal`] sealed under the same `context`.
    ///
    /// # Errors
    /// [`StorageError::Corrupt`] when the text was not sealed by this key for this context.
    pub fn open(&self, context: &str, sealed: &str) -> Result<Vec<u8>> {
        let corrupt = || StorageError::Corrupt(format!("{context}: cannot open the sealed value"));
        let bytes = hex::decode(sealed).map_err(|_| corrupt())?;
        if bytes.len() < 24 {
            return Err(corrupt());
        }
        let (nonce, body) = bytes.split_at(24);
        let nonce: [u8; 24] = nonce.try_into().map_err(|_| corrupt())?;
        self.0
            .decrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: body,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| corrupt())
    }

    pub(crate) fn open_text(&self, context: &str, sealed: &str) -> Result<String> {
        String::from_utf8(self.open(context, sealed)?)
            .map_err(|_| StorageError::Corrupt(format!("{context}: not UTF-8")))
    }
}

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).expect("the operating system's random source");
    bytes
}

fn read(path: &Path) -> Result<String> {
    std::fs::read_to_string(path)
        .map_err(|e| StorageError::Corrupt(format!("cannot read {}: {e}", path.display())))
}

fn write_new_key(path: &Path) -> Result<()> {
    use std::io::Write;
    let fail =
        |e: std::io::Error| StorageError::Corrupt(format!("cannot write {}: {e}", path.display()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(fail)?;
    writeln!(file, "{}", hex::encode(random_bytes::<32>())).map_err(fail)
}

// ---------------------------------------------------------------------------------------------
// Inventory

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_in_their_context_and_with_their_key() {
        let key = SecretKey::random();
        let sealed = key.seal("inventory:X4-1", b"factory secret 0123");
        assert!(!sealed.contains("factory"));
        assert_eq!(
            key.open("inventory:X4-1", &sealed).unwrap(),
            b"factory secret 0123"
        );
        assert!(key.open("inventory:X4-2", &sealed).is_err());
        assert!(SecretKey::random().open("inventory:X4-1", &sealed).is_err());
        assert_ne!(sealed, key.seal("inventory:X4-1", b"factory secret 0123"));
    }
}
