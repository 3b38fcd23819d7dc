//! Fresh random values from the OS CSPRNG: `base64:N` (N bytes), `hex:N` (N bytes), `alnum:N`
//! (N characters of `[A-Za-z0-9]`, without modulo bias), and `rsa-pem:BITS` (the base64 of a fresh
//! RSA PKCS#8 PEM, as upstream's `signing_key_pem`; with the `cli` feature).

use std::fmt;
use std::fmt::Write as _;

use base64::Engine as _;
use secrecy::SecretString;

/// The default: 48 bytes, base64 (as `openssl rand -base64 48`).
pub const DEFAULT: Spec = Spec {
    format: Format::Base64,
    size: 48,
};

/// `oauth_at_rest_pepper` as upstream makes it: 64 random letters and digits
/// (`generate_oauth_at_rest_pepper`).
pub const PEPPER: Spec = Spec {
    format: Format::Alnum,
    size: 64,
};

/// `manifest_signing_secret_seed` as 0.77's `admin setup` makes it: 32 bytes, padded base64.
pub const SEED: Spec = Spec {
    format: Format::Base64,
    size: 32,
};

/// `encryption_master_key` as 0.77's `admin setup` makes it: 32 bytes, lower-case hex.
pub const MASTER_KEY: Spec = Spec {
    format: Format::Hex,
    size: 32,
};

/// `signing_key_pem` as 0.77's `admin setup` makes it: the base64 of an RSA-2048 PKCS#8 PEM.
pub const SIGNING_KEY: Spec = Spec {
    format: Format::RsaPem,
    size: 2048,
};

/// The built-in generator of a key, as upstream's `admin setup` makes it: `jwt_secret` (48 bytes,
/// base64), `oauth_at_rest_pepper` (64 letters and digits), the seed, the master key and the
/// signing key; `None` for keys whose values come from elsewhere.
#[must_use]
pub fn builtin(key: &str) -> Option<Spec> {
    match key {
        crate::generation::JWT_SECRET => Some(DEFAULT),
        crate::generation::PEPPER => Some(PEPPER),
        crate::upstream::SEED => Some(SEED),
        crate::upstream::MASTER_KEY | "ENCRYPTION_MASTER_KEY" => Some(MASTER_KEY),
        crate::upstream::SIGNING_KEY => Some(SIGNING_KEY),
        _ => None,
    }
}

/// How to encode the random bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "cli", derive(clap::ValueEnum))]
pub enum Format {
    /// Standard base64 of N bytes.
    Base64,
    /// Lower-case hex of N bytes.
    Hex,
    /// N characters from `[A-Za-z0-9]`.
    Alnum,
    /// The base64 of a fresh RSA key of N bits, as a PKCS#8 PEM (`generate = "rsa-pem:2048"`).
    #[cfg_attr(feature = "cli", value(skip))]
    RsaPem,
}

/// A generator: a format and a size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spec {
    /// The encoding.
    pub format: Format,
    /// Bytes (base64, hex) or characters (alnum).
    pub size: usize,
}

impl fmt::Display for Spec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self.format {
            Format::Base64 => "base64",
            Format::Hex => "hex",
            Format::Alnum => "alnum",
            Format::RsaPem => "rsa-pem",
        };
        write!(f, "{name}:{}", self.size)
    }
}

/// Why no value could be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GenerateError {
    /// The OS random number generator failed.
    #[error("cannot read the OS random number generator: {0}")]
    Random(getrandom::Error),
    /// The RSA key could not be made or encoded.
    #[error("cannot make an RSA key: {0}")]
    Rsa(String),
}

/// The base64 of a fresh RSA key of `bits` bits, as a PKCS#8 PEM.
#[cfg(feature = "cli")]
fn rsa_pem(bits: usize) -> Result<SecretString, GenerateError> {
    use rsa::pkcs8::{EncodePrivateKey, LineEnding};
    let key = rsa::PrivateKey::new(&mut getrandom_sys_rng::SysRng, bits)
        .map_err(|e| GenerateError::Rsa(e.to_string()))?;
    let pem = key
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(|e| GenerateError::Rsa(e.to_string()))?;
    Ok(SecretString::from(
        base64::engine::general_purpose::STANDARD.encode(pem.as_bytes()),
    ))
}

#[cfg(not(feature = "cli"))]
fn rsa_pem(_: usize) -> Result<SecretString, GenerateError> {
    Err(GenerateError::Rsa(
        "this build has no RSA support (the `cli` feature)".to_owned(),
    ))
}

impl From<getrandom::Error> for GenerateError {
    fn from(e: getrandom::Error) -> Self {
        Self::Random(e)
    }
}

impl Spec {
    /// Parses `base64:48`, `hex:32`, `alnum:40`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let (name, size) = text
            .split_once(':')
            .ok_or_else(|| format!("`{text}` is not FORMAT:SIZE (e.g. base64:48)"))?;
        let format = match name.trim() {
            "base64" => Format::Base64,
            "hex" => Format::Hex,
            "alnum" => Format::Alnum,
            "rsa-pem" => Format::RsaPem,
            other => {
                return Err(format!(
                    "unknown generator format `{other}`: use base64, hex, alnum or rsa-pem"
                ))
            }
        };
        let size: usize = size
            .trim()
            .parse()
            .map_err(|_| format!("`{size}` is not a number"))?;
        if format == Format::RsaPem && !(2048..=4096).contains(&size) {
            return Err(format!(
                "an RSA key of {size} bits is out of range (2048 to 4096)"
            ));
        }
        if !(16..=4096).contains(&size) {
            return Err(format!("size {size} is out of range (16 to 4096)"));
        }
        Ok(Self { format, size })
    }

    /// A fresh value.
    pub fn generate(self) -> Result<SecretString, GenerateError> {
        match self.format {
            Format::RsaPem => rsa_pem(self.size),
            Format::Base64 | Format::Hex => {
                let mut bytes = vec![0u8; self.size];
                getrandom::fill(&mut bytes)?;
                let out = if self.format == Format::Base64 {
                    base64::engine::general_purpose::STANDARD.encode(&bytes)
                } else {
                    bytes
                        .iter()
                        .fold(String::with_capacity(2 * bytes.len()), |mut s, b| {
                            let _ = write!(s, "{b:02x}");
                            s
                        })
                };
                bytes.fill(0);
                Ok(SecretString::from(out))
            }
            Format::Alnum => {
                const ALPHABET: &[u8] =
                    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
                let mut out = String::with_capacity(self.size);
                let mut buf = [0u8; 64];
                while out.len() < self.size {
                    getrandom::fill(&mut buf)?;
                    // 62 * 4 = 248: bytes at or above it are dropped, so every character is equally likely.
                    for b in buf.iter().filter(|b| **b < 248) {
                        if out.len() == self.size {
                            break;
                        }
                        out.push(char::from(ALPHABET[usize::from(*b % 62)]));
                    }
                }
                buf.fill(0);
                Ok(SecretString::from(out))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    #[test]
    fn parses_and_generates_each_format() {
        let b = Spec::parse("base64:48").unwrap().generate().unwrap();
        assert_eq!(b.expose_secret().len(), 64);
        let h = Spec::parse("hex:32").unwrap().generate().unwrap();
        assert!(
            h.expose_secret().len() == 64
                && h.expose_secret().chars().all(|c| c.is_ascii_hexdigit())
        );
        let a = Spec::parse("alnum:40").unwrap().generate().unwrap();
        assert!(
            a.expose_secret().len() == 40
                && a.expose_secret().chars().all(|c| c.is_ascii_alphanumeric())
        );
        assert_ne!(
            DEFAULT.generate().unwrap().expose_secret(),
            DEFAULT.generate().unwrap().expose_secret()
        );
        assert!(
            Spec::parse("rot13:40").is_err()
                && Spec::parse("base64").is_err()
                && Spec::parse("hex:4").is_err()
                && Spec::parse("rsa-pem:1024").is_err()
        );
    }

    #[cfg(feature = "cli")]
    #[test]
    fn the_signing_key_is_the_base64_of_an_rsa_2048_pkcs8_pem() {
        use rsa::pkcs8::DecodePrivateKey;
        use rsa::traits::PublicKeyParts;
        let value = builtin("signing_key_pem").unwrap().generate().unwrap();
        let pem = base64::engine::general_purpose::STANDARD
            .decode(value.expose_secret())
            .unwrap();
        let pem = String::from_utf8(pem).unwrap();
        assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----\n"), "PKCS#8");
        let key = rsa::PrivateKey::from_pkcs8_pem(&pem).unwrap();
        assert_eq!(key.size() * 8, 2048);
        let seed = builtin("manifest_signing_secret_seed")
            .unwrap()
            .generate()
            .unwrap();
        assert_eq!(
            base64::engine::general_purpose::STANDARD
                .decode(seed.expose_secret())
                .unwrap()
                .len(),
            32
        );
        let master = builtin("encryption_master_key")
            .unwrap()
            .generate()
            .unwrap();
        let m = master.expose_secret();
        assert!(
            m.len() == 64
                && m.bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        );
    }
}
