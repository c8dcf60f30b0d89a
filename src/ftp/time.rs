//! Pure conversions between FTP time stamps (MDTM, MLSD `modify`: `YYYYMMDDHHMMSS[.sss]`,
//! always UTC per RFC 3659 §2.3) and seconds since the Unix epoch.

/// `20240131100000` → seconds since 1970-01-01T00:00:00Z; None when malformed.
///
/// ```
/// use ftp3700::ftp::time::parse_ftp_time;
/// assert_eq!(parse_ftp_time("19700102000000"), Some(86_400));
/// ```
pub fn parse_ftp_time(text: &str) -> Option<i64> {
    let digits = text.trim().split('.').next()?;
    if digits.len() != 14 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n = |r: std::ops::Range<usize>| digits[r].parse::<i64>().ok();
    let (y, m, d) = (n(0..4)?, n(4..6)?, n(6..8)?);
    let (hh, mm, ss) = (n(8..10)?, n(10..12)?, n(12..14)?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || hh > 23 || mm > 59 || ss > 60 {
        return None;
    }
    Some(days_from_civil(y, m, d) * 86_400 + hh * 3600 + mm * 60 + ss)
}

/// Seconds since the epoch → `YYYYMMDDHHMMSS` (for MFMT).
pub fn format_ftp_time(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}{m:02}{d:02}{:02}{:02}{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Seconds since the epoch → the UTC calendar date `(year, month, day)`.
pub fn civil_date(secs: i64) -> (i64, i64, i64) {
    civil_from_days(secs.div_euclid(86_400))
}

/// Howard Hinnant's days_from_civil: days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (
        if m <= 2 {
            yoe + era * 400 + 1
        } else {
            yoe + era * 400
        },
        m,
        d,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_dates() {
        assert_eq!(parse_ftp_time("19700101000000"), Some(0));
        assert_eq!(parse_ftp_time("20000301000000"), Some(951_868_800));
        assert_eq!(parse_ftp_time("20240131100000.123"), Some(1_706_695_200));
        assert_eq!(parse_ftp_time("2024013110000"), None);
        assert_eq!(parse_ftp_time("20241331100000"), None);
    }

    #[test]
    fn round_trip() {
        for secs in [0i64, 59, 86_399, 951_868_800, 1_706_695_200, 4_102_444_799] {
            assert_eq!(parse_ftp_time(&format_ftp_time(secs)), Some(secs));
        }
    }
}
