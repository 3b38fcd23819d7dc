//! `token::jwt_expiry`: the `exp` of a JWT-shaped token, and `format_time` of what it returns.
//!
//! The first byte picks the shape: any token text; or a JWT whose payload is the rest of the
//! input, base64url-encoded (so the JSON reader is reached); or a JWT with a given numeric `exp`.
//!
//! Invariants: no panic; `Some` only for three-part tokens whose payload is a JSON object with a
//! numeric, non-negative `exp` below 2^64 (rounded down); such an `exp` is always read unless the
//! claim is written twice; an integer `exp` always reads back.
#![no_main]

use base64::Engine as _;
use libfuzzer_sys::fuzz_target;
use systemprompt_secrets::token::{format_time, jwt_expiry};
use systemprompt_secrets::SecretString;

fn jwt(payload: &[u8]) -> String {
    let enc = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
    format!(
        "{}.{}.{}",
        enc(b"{\"alg\":\"HS256\",\"typ\":\"JWT\"}"),
        enc(payload),
        enc(b"sig")
    )
}

fn check_time(exp: u64) {
    let text = format_time(exp);
    assert!(text.ends_with(" UTC") && text.len() >= 23, "{text}");
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    match mode % 3 {
        0 => {
            let token = String::from_utf8_lossy(rest);
            if let Some(exp) = jwt_expiry(&SecretString::from(token.as_ref())) {
                assert_eq!(token.split('.').count(), 3);
                check_time(exp);
            }
        }
        1 => {
            let got = jwt_expiry(&SecretString::from(jwt(rest)));
            // Claims that are skipped are not validated (serde_json's `IgnoredAny` takes bad UTF-8
            // and out-of-range numbers), so the oracle reads the payload lossily and gives up on
            // payloads it cannot read.
            let payload = String::from_utf8_lossy(rest);
            let claims = serde_json::from_str::<serde_json::Value>(&payload).ok();
            let exp = claims
                .as_ref()
                .and_then(|c| c.as_object())
                .and_then(|c| c.get("exp"))
                .and_then(serde_json::Value::as_number);
            if let Some(got) = got {
                check_time(got);
                assert_eq!(
                    rest.trim_ascii_start().first(),
                    Some(&b'{'),
                    "claims not an object"
                );
                if let Some(claims) = &claims {
                    let n = exp.unwrap_or_else(|| panic!("no numeric exp in {claims}"));
                    match n.as_u64() {
                        Some(u) => assert_eq!(u, got),
                        None => {
                            let f = n.as_f64().expect("a number");
                            assert!(f >= 0.0 && f.floor() == got as f64, "{f} read as {got}");
                        }
                    }
                }
            } else if let Some(n) = exp {
                // A non-negative `exp` below 2^64 in a UTF-8 payload must be read (unless the
                // claim is written twice, which readers may reject).
                let in_range = n.as_u64().is_some()
                    || n.as_f64()
                        .is_some_and(|f| (0.0..18_446_744_073_709_551_616.0).contains(&f));
                let utf8 = std::str::from_utf8(rest).is_ok();
                assert!(
                    !in_range || !utf8 || duplicated_exp(rest),
                    "exp {n} not read"
                );
            }
        }
        _ => {
            let mut bytes = [0u8; 8];
            let n = rest.len().min(8);
            bytes[..n].copy_from_slice(&rest[..n]);
            let exp = u64::from_le_bytes(bytes);
            let claims = format!("{{\"sub\":\"user\",\"exp\":{exp}}}");
            assert_eq!(
                jwt_expiry(&SecretString::from(jwt(claims.as_bytes()))),
                Some(exp)
            );
            check_time(exp);
        }
    }
});

/// Whether the payload object has the key `exp` more than once.
fn duplicated_exp(payload: &[u8]) -> bool {
    struct Count(usize);
    impl<'de> serde::Deserialize<'de> for Count {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V;
            impl<'de> serde::de::Visitor<'de> for V {
                type Value = Count;
                fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    f.write_str("an object")
                }
                fn visit_map<A: serde::de::MapAccess<'de>>(
                    self,
                    mut map: A,
                ) -> Result<Count, A::Error> {
                    let mut n = 0;
                    while let Some(key) = map.next_key::<String>()? {
                        map.next_value::<serde::de::IgnoredAny>()?;
                        n += usize::from(key == "exp");
                    }
                    Ok(Count(n))
                }
            }
            d.deserialize_map(V)
        }
    }
    serde_json::from_slice::<Count>(payload).is_ok_and(|c| c.0 > 1)
}
