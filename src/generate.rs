//! Fresh random values from the OS CSPRNG: `base64:N` (N bytes), `hex:N` (N bytes), `alnum:N`
//! (N characters of `[A-Za-z0-9]`, without modulo bias).

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

/// The built-in generator of a key: `jwt_secret` (48 bytes, base64) and `oauth_at_rest_pepper`
/// (64 letters and digits); `None` for keys whose values come from elsewhere.
#[must_use]
pub fn builtin(key: &str) -> Option<Spec> {
    match key {
        crate::generation::JWT_SECRET => Some(DEFAULT),
        crate::generation::PEPPER => Some(PEPPER),
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
        };
        write!(f, "{name}:{}", self.size)
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
            other => {
                return Err(format!(
                    "unknown generator format `{other}`: use base64, hex or alnum"
                ))
            }
        };
        let size: usize = size
            .trim()
            .parse()
            .map_err(|_| format!("`{size}` is not a number"))?;
        if !(16..=4096).contains(&size) {
            return Err(format!("size {size} is out of range (16 to 4096)"));
        }
        Ok(Self { format, size })
    }

    /// A fresh value.
    pub fn generate(self) -> Result<SecretString, getrandom::Error> {
        match self.format {
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
        );
    }
}
