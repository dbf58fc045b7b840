//! Kubernetes resource quantities ("500m", "2Gi", "1.5", "1e3"), parsed so that bad values are
//! caught at plan time and equal values in different spellings ("1" and "1000m") compare equal.

/// A parsed quantity in milli-units (cpu "1" = 1000, memory "1Ki" = 1_024_000).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Quantity {
    millis: i128,
}

pub const ACCEPTED_FORMS: &str = "a number with an optional suffix: m, k, M, G, T, P, E (decimal) or Ki, Mi, Gi, Ti, Pi, Ei (binary), e.g. \"500m\", \"2\", \"512Mi\", \"2Gi\"";

impl Quantity {
    pub fn parse(s: &str) -> Result<Quantity, String> {
        let bad = || format!("{s:?} is not a Kubernetes quantity; use {ACCEPTED_FORMS}");
        let s_trim = s.trim();
        if s_trim.is_empty() || s_trim != s {
            return Err(bad());
        }
        let num_end = s
            .find(|c: char| !(c.is_ascii_digit() || c == '.' || c == '+'))
            .unwrap_or(s.len());
        let (num, suffix) = s.split_at(num_end);
        let num = num.strip_prefix('+').unwrap_or(num);
        if num.is_empty() || num.starts_with('.') && num.len() == 1 || num.matches('.').count() > 1
        {
            return Err(bad());
        }
        // Exact decimal arithmetic on the mantissa: digits and the position of the point.
        let (int_part, frac_part) = num.split_once('.').unwrap_or((num, ""));
        if !int_part
            .chars()
            .chain(frac_part.chars())
            .all(|c| c.is_ascii_digit())
        {
            return Err(bad());
        }
        let digits: String = format!("{int_part}{frac_part}");
        if digits.len() > 30 {
            return Err(bad());
        }
        let mantissa: i128 = digits.parse().map_err(|_| bad())?;
        let frac_len = frac_part.len() as i32;
        // multiplier = base^exp; we keep milli-units, so decimal exponent starts at +3.
        let (bin_shift, dec_exp): (u32, i32) = match suffix {
            "" => (0, 0),
            "m" => (0, -3),
            "k" => (0, 3),
            "M" => (0, 6),
            "G" => (0, 9),
            "T" => (0, 12),
            "P" => (0, 15),
            "E" => (0, 18),
            "Ki" => (10, 0),
            "Mi" => (20, 0),
            "Gi" => (30, 0),
            "Ti" => (40, 0),
            "Pi" => (50, 0),
            "Ei" => (60, 0),
            _ => {
                let exp = suffix
                    .strip_prefix('e')
                    .or_else(|| suffix.strip_prefix('E'))
                    .and_then(|e| e.parse::<i32>().ok())
                    .filter(|e| (-18..=18).contains(e))
                    .ok_or_else(bad)?;
                (0, exp)
            }
        };
        let exp10 = dec_exp + 3 - frac_len;
        let mut v = mantissa.checked_mul(1i128 << bin_shift).ok_or_else(bad)?;
        if exp10 >= 0 {
            v = v
                .checked_mul(10i128.checked_pow(exp10 as u32).ok_or_else(bad)?)
                .ok_or_else(bad)?;
        } else {
            // Sub-milli precision rounds up, as the API server does.
            let div = 10i128.checked_pow((-exp10) as u32).ok_or_else(bad)?;
            v = (v + div - 1) / div;
        }
        Ok(Quantity { millis: v })
    }

    pub fn millis(&self) -> i128 {
        self.millis
    }
}

/// True when both strings are quantities of the same value ("1" vs "1000m").
pub fn same_quantity(a: &str, b: &str) -> bool {
    match (Quantity::parse(a), Quantity::parse(b)) {
        (Ok(x), Ok(y)) => x == y,
        _ => a == b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_values_in_different_spellings_compare_equal() {
        assert!(same_quantity("1", "1000m"));
        assert!(same_quantity("2Gi", "2048Mi"));
        assert!(same_quantity("0.5", "500m"));
        assert!(same_quantity("1k", "1000"));
        assert!(same_quantity("1e3", "1k"));
        assert!(!same_quantity("1", "1001m"));
        assert!(!same_quantity("2G", "2Gi"));
    }

    #[test]
    fn rejects_what_the_api_server_rejects() {
        for bad in [
            "", "2Gb", "-1", "1.2.3", "m", "Gi", " 1", "1 ", "abc", "1e99", "0x10",
        ] {
            assert!(Quantity::parse(bad).is_err(), "{bad:?} should be rejected");
        }
        assert_eq!(Quantity::parse("250m").map(|q| q.millis()), Ok(250));
        assert_eq!(Quantity::parse("1Ki").map(|q| q.millis()), Ok(1_024_000));
    }
}
