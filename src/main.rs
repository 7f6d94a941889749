//! The `tributary` binary: parse the command line, start logging, hand over to
//! the library, and turn what comes back into an exit code.

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;
use tributary::cli::{Cli, LogFormat, run};

/// Crates that log every token or byte they handle at debug level: a page
/// rendered with `RUST_LOG=debug` wrote over a megabyte of their lines. They are
/// kept at `info` unless the filter names them.
const CHATTY: &[&str] = &["html5ever", "markup5ever", "h2", "hyper", "rustls"];

/// `RUST_LOG` (else `default`), with the chatty crates kept quiet unless named.
fn log_filter(env: Option<&str>, default: &str) -> EnvFilter {
    let mut directives = env.unwrap_or(default).to_string();
    for target in CHATTY {
        if !directives.contains(target) {
            directives.push_str(&format!(",{target}=info"));
        }
    }
    EnvFilter::try_new(&directives).unwrap_or_else(|e| {
        eprintln!("warning: ignoring RUST_LOG={directives:?}: {e}");
        EnvFilter::new(default)
    })
}

/// A panic hook.
type Hook = Box<dyn Fn(&std::panic::PanicHookInfo<'_>) + Sync + Send + 'static>;

/// `default`, silenced for panics the feed parser contains: a hostile document
/// costs its source, and the caller logs one line for it; no "thread panicked"
/// message, no backtrace. Any other panic is reported by `default` in full.
fn quiet_when_contained(default: Hook) -> Hook {
    Box::new(move |info| {
        if tributary::parse::panic_is_contained() {
            tracing::debug!(error = %info, "the feed parser panicked on a document");
        } else {
            default(info);
        }
    })
}

fn main() -> ExitCode {
    std::panic::set_hook(quiet_when_contained(std::panic::take_hook()));
    let cli = Cli::parse();
    let filter = log_filter(
        std::env::var("RUST_LOG").ok().as_deref(),
        cli.default_log_filter(),
    );
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    match cli.log_format {
        LogFormat::Json => logs.json().init(),
        LogFormat::Text => logs.init(),
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        // `tributary export | head`: the reader has all it wanted.
        Err(e) if e.is_broken_pipe() => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            e.exit_code()
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[test]
    fn contained_panics_are_silent_and_others_are_reported() {
        static REPORTED: AtomicUsize = AtomicUsize::new(0);
        let previous = std::panic::take_hook();
        std::panic::set_hook(quiet_when_contained(Box::new(|_| {
            REPORTED.fetch_add(1, Ordering::SeqCst);
        })));
        let contained = tributary::parse::contained(|| panic!("in the parser"));
        let contained_reports = REPORTED.load(Ordering::SeqCst);
        let elsewhere = std::thread::spawn(|| panic!("elsewhere")).join();
        std::panic::set_hook(previous);
        assert!(contained.is_err() && elsewhere.is_err());
        assert_eq!(contained_reports, 0);
        assert_eq!(REPORTED.load(Ordering::SeqCst), 1);
    }
}
