//! Formats shared by every resource's validation: Kubernetes names, label keys and values,
//! durations, and the AWS identifiers the platform settings take.

use std::time::Duration;

pub fn is_dns_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

pub fn is_dns_subdomain(s: &str) -> bool {
    !s.is_empty() && s.len() <= 253 && s.split('.').all(is_dns_label)
}

/// A label/annotation key: optional DNS prefix, '/', name of at most 63 characters.
pub fn is_qualified_name(k: &str) -> bool {
    let (prefix, name) = match k.rsplit_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, k),
    };
    prefix.is_none_or(is_dns_subdomain) && is_label_value(name) && !name.is_empty()
}

pub fn is_label_value(v: &str) -> bool {
    v.len() <= 63
        && (v.is_empty()
            || (v
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
                && v.starts_with(|c: char| c.is_ascii_alphanumeric())
                && v.ends_with(|c: char| c.is_ascii_alphanumeric())))
}

/// Parse a duration as Go's `time.ParseDuration` does: a sequence of decimal numbers, each
/// with a unit (`ns`, `us`, `µs`, `ms`, `s`, `m`, `h`), e.g. "90s", "1h30m", "1.5h", "300ms";
/// "0" alone is zero. Negative durations (and overflow) are not durations here.
pub fn parse_duration(s: &str) -> Option<Duration> {
    let s = s.strip_prefix('+').unwrap_or(s);
    if s == "0" {
        return Some(Duration::ZERO);
    }
    if s.is_empty() {
        return None;
    }
    let mut rest = s;
    let mut total: u128 = 0;
    while !rest.is_empty() {
        let int_len = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        let (int, after) = rest.split_at(int_len);
        let (frac, after) = match after.strip_prefix('.') {
            Some(a) => {
                let n = a.find(|c: char| !c.is_ascii_digit()).unwrap_or(a.len());
                a.split_at(n)
            }
            None => ("", after),
        };
        if int.is_empty() && frac.is_empty() {
            return None;
        }
        let unit_len = after
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(after.len());
        let (unit, after) = after.split_at(unit_len);
        let nanos_per: u128 = match unit {
            "ns" => 1,
            "us" | "\u{b5}s" | "\u{3bc}s" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            _ => return None,
        };
        let whole: u128 = if int.is_empty() { 0 } else { int.parse().ok()? };
        total = total.checked_add(whole.checked_mul(nanos_per)?)?;
        // Fractions beyond nanoseconds are dropped, as Go does.
        let mut scale = nanos_per;
        for d in frac.chars().filter_map(|c| c.to_digit(10)) {
            scale /= 10;
            total = total.checked_add(u128::from(d) * scale)?;
        }
        rest = after;
    }
    let secs = u64::try_from(total / 1_000_000_000).ok()?;
    Some(Duration::new(secs, (total % 1_000_000_000) as u32))
}

/// The duration forms every duration setting accepts, for error messages.
pub const DURATION_FORMS: &str = "a Go duration such as \"90s\", \"5m\", \"1h30m\", \"1.5h\" or \"300ms\" (units ns, us, ms, s, m, h)";

/// "platform@example.com": one '@', a local part without spaces, a DNS name with a dot.
pub fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && local.len() <= 64
        && !domain.contains('@')
        && !s.chars().any(|c| c.is_whitespace() || c.is_control())
        && domain.contains('.')
        && is_dns_subdomain(&domain.to_ascii_lowercase())
}

/// "eu-west-1", "us-gov-west-1".
pub fn is_aws_region(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.len() >= 3
        && parts[0].len() == 2
        && parts[..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase()))
        && parts
            .last()
            .is_some_and(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
}

/// "Z0123456789ABCDEFGHIJ" (no `/hostedzone/` prefix).
pub fn is_hosted_zone_id(s: &str) -> bool {
    s.len() >= 2
        && s.len() <= 32
        && s.starts_with('Z')
        && s.chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
}

/// "arn:aws:iam::111122223333:role/cert-manager" (any partition, role paths allowed).
pub fn is_role_arn(s: &str) -> bool {
    let parts: Vec<&str> = s.splitn(6, ':').collect();
    matches!(parts.as_slice(), ["arn", partition, "iam", "", account, resource]
        if partition.starts_with("aws")
            && account.len() == 12
            && account.chars().all(|c| c.is_ascii_digit())
            && resource.strip_prefix("role/").is_some_and(|r| !r.is_empty()))
}

pub fn is_https_url(s: &str) -> bool {
    s.strip_prefix("https://").is_some_and(|rest| {
        let host = rest.split('/').next().unwrap_or_default();
        !host.is_empty() && !s.chars().any(|c| c.is_whitespace() || c.is_control())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_like_go() {
        assert_eq!(parse_duration("5m"), Some(Duration::from_secs(300)));
        assert_eq!(parse_duration("1h30m"), Some(Duration::from_secs(5400)));
        assert_eq!(parse_duration("1.5h"), Some(Duration::from_secs(5400)));
        assert_eq!(parse_duration("300ms"), Some(Duration::from_millis(300)));
        assert_eq!(
            parse_duration("2h45m30.5s"),
            Some(Duration::from_millis(9_930_500))
        );
        assert_eq!(parse_duration(".5s"), Some(Duration::from_millis(500)));
        assert_eq!(parse_duration("1us"), Some(Duration::from_micros(1)));
        assert_eq!(parse_duration("1\u{b5}s"), Some(Duration::from_micros(1)));
        assert_eq!(parse_duration("0"), Some(Duration::ZERO));
        for bad in [
            "",
            "5",
            "5x",
            ".s",
            "1.h.",
            "-5m",
            "1h 30m",
            "s",
            "1e3s",
            "99999999999999999999h",
        ] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
    }

    #[test]
    fn small_validators() {
        assert!(is_email("a.b+c@mail.example.com"));
        for bad in [
            "",
            "a",
            "@example.com",
            "a@b",
            "a b@example.com",
            "a@@example.com",
        ] {
            assert!(!is_email(bad), "{bad}");
        }
        assert!(is_aws_region("eu-west-1") && is_aws_region("us-gov-west-1"));
        assert!(!is_aws_region("eu-west") && !is_aws_region("EU-west-1"));
        assert!(is_hosted_zone_id("Z0123456789ABCDEFGHIJ") && !is_hosted_zone_id("z123"));
        assert!(is_role_arn("arn:aws:iam::111122223333:role/path/dns"));
        assert!(is_role_arn("arn:aws-cn:iam::111122223333:role/dns"));
        assert!(!is_role_arn("arn:aws:iam::111122223333:user/dns"));
        assert!(!is_role_arn("arn:aws:iam::1111:role/dns"));
    }
}
