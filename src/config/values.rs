//! Checks shared by several sections' values: durations, sizes, cron schedules,
//! counts of at least one. Each reports a problem at the value and still returns
//! something, so that the rest of the file is validated too.

use std::time::Duration;

use toml::Spanned;

use super::problems::Problems;

pub(super) fn duration(value: &Spanned<String>, key: &str, p: &mut Problems) -> Duration {
    match humantime::parse_duration(value.get_ref()) {
        Ok(d) => d,
        Err(e) => {
            p.at(
                value.span(),
                format!(
                    "invalid duration {:?} for `{key}`: {e} (write e.g. \"30s\", \"15m\", \"2h\", \"90d\")",
                    value.get_ref()
                ),
            );
            Duration::ZERO
        }
    }
}

/// A size in bytes ("10MiB"); `None`, with the problem reported, when it is
/// not one. `example` is shown in the message.
pub(super) fn size(
    value: &Spanned<String>,
    key: &str,
    example: &str,
    p: &mut Problems,
) -> Option<u64> {
    match value.get_ref().parse::<bytesize::ByteSize>() {
        Ok(size) => Some(size.as_u64()),
        Err(e) => {
            p.at(
                value.span(),
                format!(
                    "invalid size {:?} for `{key}`: {e} (write e.g. \"{example}\")",
                    value.get_ref()
                ),
            );
            None
        }
    }
}

pub(super) fn cron(value: &Spanned<String>, key: &str, p: &mut Problems) -> String {
    if let Err(e) = crate::clock::parse_cron(value.get_ref()) {
        p.at(
            value.span(),
            format!(
                "invalid cron schedule {:?} for `{key}`: {e} (six fields, with seconds: \"0 */15 * * * *\")",
                value.get_ref()
            ),
        );
    }
    value.get_ref().clone()
}

pub(super) fn at_least_one(value: &Spanned<u32>, key: &str, p: &mut Problems) -> usize {
    if *value.get_ref() == 0 {
        p.at(value.span(), format!("`{key}` must be at least 1"));
    }
    *value.get_ref() as usize
}
