//! `tributary run` as a process: the schedule keeps firing, fetches are polite,
//! SIGHUP reloads, SIGTERM stops cleanly. The schedule ticks every second.

mod common;

use std::process::Stdio;
use std::time::{Duration, Instant};

use common::{FeedHost, Setup, rss};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

fn item(n: u32) -> String {
    format!("<guid>{n}</guid><link>https://site.example/{n}</link><title>Story {n}</title>")
}

struct Daemon {
    child: Child,
    base: String,
}

impl Daemon {
    async fn start(setup: &Setup) -> Daemon {
        let mut child = Command::new(env!("CARGO_BIN_EXE_tributary"))
            .args(["run", "--config"])
            .arg(&setup.config)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let first = tokio::time::timeout(Duration::from_secs(10), lines.next_line())
            .await
            .expect("the daemon says where it serves")
            .unwrap()
            .unwrap();
        let base = first
            .split("http://")
            .nth(1)
            .and_then(|rest| rest.split('/').next())
            .map(|addr| format!("http://{addr}"))
            .unwrap_or_else(|| panic!("no address in {first:?}"));
        Daemon { child, base }
    }

    fn signal(&self, name: &str) {
        let pid = self.child.id().unwrap().to_string();
        assert!(
            std::process::Command::new("kill")
                .args([&format!("-{name}"), &pid])
                .status()
                .unwrap()
                .success()
        );
    }

    /// SIGTERM, then the exit status, which must come within seconds.
    async fn stop(mut self) -> std::process::ExitStatus {
        self.signal("TERM");
        tokio::time::timeout(Duration::from_secs(10), self.child.wait())
            .await
            .expect("the daemon stops within seconds of SIGTERM")
            .unwrap()
    }
}

/// Waits (polling every 100 ms, at most `secs`) until `done` holds.
async fn eventually(secs: u64, mut done: impl FnMut() -> bool) -> bool {
    let until = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < until {
        if done() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    done()
}

fn every_second(setup: &Setup) {
    let text = std::fs::read_to_string(&setup.config).unwrap().replace(
        "[poll]\n",
        "[poll]\nschedule = \"* * * * * *\"\nper_host = 2\n",
    ) + "\n[server]\nlisten = \"127.0.0.1:0\"\n";
    std::fs::write(&setup.config, text).unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn the_daemon_polls_on_schedule_and_politely() {
    let host = FeedHost::start().await;
    for name in ["a", "m", "t", "linked"] {
        host.set_feed(name, &rss(&[item(1), item(2)]));
    }
    let mut sources = vec![
        ("Plain", host.url("/f/a")),
        ("Busy", host.url("/retry-later")),
        ("Gone", host.url("/status/410")),
        ("Moved", host.url("/moved/m")),
        ("Temporary", host.url("/temporary/t")),
        ("Site", host.url("/page/linked")),
    ];
    let holds: Vec<(String, String)> = (0..4)
        .map(|i| (format!("Slow {i}"), host.url(&format!("/hold/{i}"))))
        .collect();
    sources.extend(holds.iter().map(|(n, u)| (n.as_str(), u.clone())));
    let setup = Setup::new("", &sources);
    every_second(&setup);
    let daemon = Daemon::start(&setup).await;

    // The schedule keeps firing: many ticks, each one a conditional request.
    assert!(
        eventually(15, || host.requests_to("/f/a").len() >= 4).await,
        "ticks stopped: {:?}",
        host.requests_to("/f/a").len()
    );
    let plain = host.requests_to("/f/a");
    assert!(
        plain[1..].iter().all(|r| r.if_none_match.is_some()),
        "repeat fetches are conditional"
    );

    // The daemon serves what it stored while it polls.
    let health: serde_json::Value = serde_json::from_str(
        &reqwest::get(format!("{}/healthz", daemon.base))
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(health["status"], "ok");
    assert_eq!(health["sources"]["disabled"], 1, "{health}");

    assert_eq!(
        host.requests_to("/retry-later").len(),
        1,
        "Retry-After: 3600 is honoured"
    );
    assert_eq!(
        host.requests_to("/status/410").len(),
        1,
        "410 disables the source"
    );
    assert_eq!(host.requests_to("/moved/m").len(), 1, "a 301 is remembered");
    assert!(
        host.requests_to("/temporary/t").len() >= 3,
        "a 302 is not remembered"
    );
    assert_eq!(
        host.requests_to("/page/linked").len(),
        1,
        "the page's feed is fetched directly afterwards"
    );
    assert!(host.requests_to("/f/linked").len() >= 3);
    let max = host
        .state
        .max_in_flight
        .load(std::sync::atomic::Ordering::SeqCst);
    assert!(
        max <= 2,
        "{max} requests at once to one host, per_host is 2"
    );

    let status = daemon.stop().await;
    assert!(status.success(), "{status:?}");
    let store = setup.store();
    assert_eq!(store.integrity_check().unwrap(), "ok");
    let names: Vec<&str> = sources.iter().map(|(n, _)| *n).collect();
    let statuses = store.source_statuses(&names).unwrap();
    let gone = statuses.iter().find(|s| s.name == "Gone").unwrap();
    assert!(gone.disabled, "{gone:?}");
    let moved = statuses.iter().find(|s| s.name == "Moved").unwrap();
    assert!(moved.fetch_url.ends_with("/f/m"), "{moved:?}");
    let site = statuses.iter().find(|s| s.name == "Site").unwrap();
    assert!(site.fetch_url.ends_with("/f/linked"), "{site:?}");
    assert_eq!(store.items_of_source("Site").unwrap().len(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn sighup_reloads_sources_and_keeps_the_old_config_when_the_new_is_bad() {
    let host = FeedHost::start().await;
    host.set_feed("a", &rss(&[item(1)]));
    host.set_feed("b", &rss(&[item(2), item(3)]));
    let setup = Setup::new("", &[("A", host.url("/f/a"))]);
    every_second(&setup);
    let daemon = Daemon::start(&setup).await;
    assert!(eventually(10, || !host.requests_to("/f/a").is_empty()).await);

    let good = std::fs::read_to_string(&setup.config).unwrap();
    std::fs::write(
        &setup.config,
        format!(
            "{good}\n[[source]]\nname = \"B\"\nurl = {:?}\n",
            host.url("/f/b")
        ),
    )
    .unwrap();
    daemon.signal("HUP");
    assert!(
        eventually(10, || !host.requests_to("/f/b").is_empty()).await,
        "the new source is fetched without a restart"
    );

    // A broken config is refused; the daemon goes on with the one it has.
    std::fs::write(&setup.config, format!("{good}\n[poll]\nbogus = 1\n")).unwrap();
    daemon.signal("HUP");
    let before = host.requests_to("/f/b").len();
    assert!(
        eventually(10, || host.requests_to("/f/b").len() >= before + 2).await,
        "still polling B after a bad reload"
    );
    let health = reqwest::get(format!("{}/healthz", daemon.base))
        .await
        .unwrap();
    assert_eq!(health.status(), 200);

    let status = daemon.stop().await;
    assert!(status.success(), "{status:?}");
    let store = setup.store();
    assert_eq!(store.integrity_check().unwrap(), "ok");
    assert_eq!(
        store.items_of_source("B").unwrap().len(),
        2,
        "nothing stored is lost"
    );
}
