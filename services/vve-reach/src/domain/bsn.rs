//! The citizen service number (BSN): a value that cannot exist unless it passes the 11-proef.

use std::fmt;

/// A valid BSN: nine digits whose weighted sum (9, 8, ..., 2, -1) is divisible by 11 and not 0.
/// `Debug` and `Display` never show the number.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Bsn(String);

/// Why a string is not a BSN. Carries no part of the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum BsnError {
    #[error("a BSN has 8 or 9 digits")]
    Format,
    #[error("the BSN fails the 11-proef")]
    ElevenTest,
}

impl Bsn {
    /// Parses 9 digits (or 8, read with a leading zero, as older BSNs are sometimes written).
    pub fn parse(s: &str) -> Result<Bsn, BsnError> {
        let s = s.trim();
        if !(s.len() == 8 || s.len() == 9) || !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(BsnError::Format);
        }
        let digits = if s.len() == 8 {
            format!("0{s}")
        } else {
            s.to_owned()
        };
        if !passes_eleven_test(&digits) {
            return Err(BsnError::ElevenTest);
        }
        Ok(Bsn(digits))
    }

    /// The nine digits, for sealing and pseudonymising only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

fn passes_eleven_test(digits: &str) -> bool {
    let sum: i64 = digits
        .bytes()
        .zip([9i64, 8, 7, 6, 5, 4, 3, 2, -1])
        .map(|(b, w)| i64::from(b - b'0') * w)
        .sum();
    sum != 0 && sum % 11 == 0
}

impl fmt::Debug for Bsn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Bsn(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_valid_and_invalid_numbers() {
        // 111222333: 9+8+7+12+10+8+9+6-3 = 66 = 6 * 11.
        assert!(Bsn::parse("111222333").is_ok());
        assert!(Bsn::parse("123456782").is_ok());
        assert_eq!(Bsn::parse("123456789"), Err(BsnError::ElevenTest));
        assert_eq!(Bsn::parse("000000000"), Err(BsnError::ElevenTest));
        assert_eq!(Bsn::parse("12345678a"), Err(BsnError::Format));
        assert_eq!(Bsn::parse("1234567"), Err(BsnError::Format));
        assert_eq!(Bsn::parse("1234567890"), Err(BsnError::Format));
        assert_eq!(
            format!("{:?}", Bsn::parse("111222333").unwrap()),
            "Bsn(***)"
        );
    }

    proptest! {
        #[test]
        fn exactly_one_check_digit_completes_any_eight_digits(prefix in "[0-9]{8}") {
            let valid: Vec<_> = (0..10)
                .map(|d| format!("{prefix}{d}"))
                .filter(|s| Bsn::parse(s).is_ok())
                .collect();
            prop_assert!(valid.len() <= 1);
        }

        #[test]
        fn parsing_never_panics(s in "\\PC{0,12}") {
            let _ = Bsn::parse(&s);
        }

        #[test]
        fn a_single_changed_digit_is_always_detected(prefix in "[0-9]{8}", pos in 0usize..9, delta in 1u8..10) {
            if let Some(valid) = (0..10).map(|d| format!("{prefix}{d}")).find(|s| Bsn::parse(s).is_ok()) {
                let mut bytes = valid.into_bytes();
                bytes[pos] = b'0' + (bytes[pos] - b'0' + delta) % 10;
                let changed = String::from_utf8(bytes).unwrap();
                prop_assert!(Bsn::parse(&changed).is_err());
            }
        }
    }
}
