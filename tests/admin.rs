//! The admin commands a person runs by hand beside the service: they read the
//! database the service uses without ever writing to it or creating one, say
//! plainly why a file cannot be used, build links from where the server
//! listens, follow a page to its feed, end quietly on a closed pipe, and count
//! in words ("1 item", not "1 items").

mod common;

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use common::{FeedHost, Setup, rss, run_tributary};

/// Runs the binary with `args` and `--config config`, with a clean environment
/// (plus `env`), as the user running the tests.
fn tributary(config: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    command(config, args, env, false).output().unwrap()
}

/// The same as a user without privileges: root reads and writes whatever the
/// permission bits say, a service's user does not. When the tests run as root
/// the command is run as `nobody`; otherwise as the current user, who is not
/// privileged either.
fn tributary_unprivileged(config: &Path, args: &[&str]) -> Output {
    command(config, args, &[], true).output().unwrap()
}

fn command(config: &Path, args: &[&str], env: &[(&str, &str)], unprivileged: bool) -> Command {
    let bin = env!("CARGO_BIN_EXE_tributary");
    let mut cmd = if unprivileged && running_as_root() {
        let mut c = Command::new("setpriv");
        c.args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "--",
            bin,
        ]);
        c
    } else {
        Command::new(bin)
    };
    cmd.args(args)
        .arg("--config")
        .arg(config)
        .env_remove("RUST_LOG")
        .env_remove("TRIBUTARY_CONFIG")
        .env_remove("STATE_DIRECTORY");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

/// Whether this process runs as root: a file it creates is owned by its user.
fn running_as_root() -> bool {
    let probe = tempfile::NamedTempFile::new().unwrap();
    probe.as_file().metadata().unwrap().uid() == 0
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn set_mode(path: &Path, mode: u32) {
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
}

/// The names in a folder, sorted.
fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// A file's bytes and modification time, to tell that nothing wrote to it.
fn fingerprint(path: &Path) -> (Vec<u8>, std::time::SystemTime) {
    (
        std::fs::read(path).unwrap(),
        std::fs::metadata(path).unwrap().modified().unwrap(),
    )
}

/// Folds the write-ahead log into the database file and closes it the way a
/// plain SQLite client does, which removes the -wal and -shm files: the state
/// of a database copied out of a backup, or of one closed by older versions.
fn checkpoint_and_drop_wal_files(db: &Path) {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
        .unwrap();
    let mut persist = 0;
    conn.file_control(
        Some(rusqlite::MAIN_DB),
        rusqlite::FileControl::PersistWal(&mut persist),
    )
    .unwrap();
    drop(conn);
    assert!(!wal(db).exists() && !shm(db).exists());
}

fn wal(db: &Path) -> PathBuf {
    PathBuf::from(format!("{}-wal", db.display()))
}

fn shm(db: &Path) -> PathBuf {
    PathBuf::from(format!("{}-shm", db.display()))
}

/// A polled setup: one source with two items at the feed host.
async fn polled(host: &FeedHost) -> Setup {
    host.set_feed(
        "a",
        &rss(&[
            "<guid>1</guid><link>https://site.example/1</link><title>First story</title>".into(),
            "<guid>2</guid><link>https://site.example/2</link><title>Second story</title>".into(),
        ]),
    );
    let setup = Setup::new("", &[("Alpha", host.url("/f/a"))]);
    setup.poll(&[]).await;
    setup
}

// ---- the read-only commands never create a database ----

#[test]
fn read_only_commands_create_no_database_and_say_where_they_looked() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("tributary.toml");
    std::fs::write(
        &config,
        "[[source]]\nname = \"A\"\nurl = \"https://a.example/feed\"\n",
    )
    .unwrap();
    let before = listing(dir.path());
    let expected_db = dir.path().join("tributary.db");
    for args in [
        &["sources"][..],
        &["sources", "--json"],
        &["export", "--format", "atom"],
        &["export", "--format", "json", "--limit", "0"],
    ] {
        let out = tributary(&config, args, &[]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(out.stdout.is_empty(), "{args:?}: {}", stdout(&out));
        assert!(
            err.contains(&expected_db.display().to_string()),
            "{args:?} names the path it looked at: {err}"
        );
        assert!(
            err.contains("no such file or directory"),
            "{args:?} says why: {err}"
        );
        assert!(
            err.contains("storage.database") && err.contains("$STATE_DIRECTORY/tributary.db"),
            "{args:?} says how the service's path is chosen: {err}"
        );
        assert_eq!(listing(dir.path()), before, "{args:?} created a file");
    }
}

#[test]
fn a_named_database_that_is_missing_is_not_created_and_its_setting_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("tributary.toml");
    std::fs::write(&config, "[storage]\ndatabase = \"data/feeds.db\"\n").unwrap();
    let out = tributary(&config, &["sources"], &[]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&dir.path().join("data/feeds.db").display().to_string()),
        "{err}"
    );
    assert!(
        err.contains("storage.database = \"data/feeds.db\""),
        "{err}"
    );
    assert!(!dir.path().join("data").exists(), "no folder made");
}

#[test]
fn under_systemd_the_read_only_commands_look_in_the_state_directory() {
    let dir = tempfile::tempdir().unwrap();
    let state = tempfile::tempdir().unwrap();
    let config = dir.path().join("tributary.toml");
    std::fs::write(&config, "").unwrap();
    let state_dir = state.path().to_str().unwrap();
    let out = tributary(&config, &["sources"], &[("STATE_DIRECTORY", state_dir)]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&state.path().join("tributary.db").display().to_string()),
        "{err}"
    );
    assert!(listing(state.path()).is_empty());
}

// ---- they never write to one ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_commands_leave_the_database_files_as_they_were() {
    let host = FeedHost::start().await;
    let setup = polled(&host).await;
    let db = setup.database();
    checkpoint_and_drop_wal_files(&db);
    // A source configured after the last poll: it has no row yet.
    let mut text = std::fs::read_to_string(&setup.config).unwrap();
    text.push_str("\n[[source]]\nname = \"Newcomer\"\nurl = \"https://new.example/feed\"\n");
    std::fs::write(&setup.config, text).unwrap();
    let before = fingerprint(&db);
    let files = listing(setup.dir.path());

    let table = tributary(&setup.config, &["sources"], &[]);
    assert!(table.status.success(), "{}", stderr(&table));
    let table = stdout(&table);
    let alpha = table.lines().find(|l| l.starts_with("Alpha")).unwrap();
    assert!(alpha.contains(" 200 "), "{table}");
    let newcomer = table.lines().find(|l| l.starts_with("Newcomer")).unwrap();
    assert!(
        newcomer.contains("https://new.example/feed"),
        "a configured source not yet fetched is listed: {table}"
    );
    let json = tributary(&setup.config, &["sources", "--json"], &[]);
    let rows: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(rows[1]["name"], "Newcomer");
    assert_eq!(rows[1]["items"], 0);
    assert_eq!(rows[0]["items"], 2);
    for format in ["atom", "rss", "json"] {
        let out = tributary(&setup.config, &["export", "--format", format], &[]);
        assert!(out.status.success(), "{format}: {}", stderr(&out));
        assert!(stdout(&out).contains("Second story"), "{format}");
    }
    assert_eq!(
        listing(setup.dir.path()),
        files,
        "no -wal or -shm file was created"
    );
    assert!(fingerprint(&db) == before, "the database file was written");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_commands_read_a_database_whose_log_holds_the_latest_changes() {
    let host = FeedHost::start().await;
    let setup = polled(&host).await;
    // The daemon's files as it leaves them: the log beside the database.
    assert!(wal(&setup.database()).exists() && shm(&setup.database()).exists());
    let before = fingerprint(&setup.database());
    let out = tributary(&setup.config, &["export", "--format", "json"], &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("First story"));
    assert!(fingerprint(&setup.database()) == before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_commands_read_a_database_its_user_may_not_write() {
    let host = FeedHost::start().await;
    let setup = polled(&host).await;
    let db = setup.database();
    checkpoint_and_drop_wal_files(&db);
    // A folder and file the unprivileged user may read but not write.
    set_mode(setup.dir.path(), 0o755);
    set_mode(&setup.config, 0o644);
    set_mode(&db, 0o644);
    let before = fingerprint(&db);
    for args in [
        &["sources"][..],
        &["export", "--format", "atom"],
        &["export", "--format", "json"],
    ] {
        let out = tributary_unprivileged(&setup.config, args);
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        assert!(
            stdout(&out).contains("Alpha") || stdout(&out).contains("First story"),
            "{args:?}: {}",
            stdout(&out)
        );
    }
    assert!(!wal(&db).exists() && !shm(&db).exists());
    assert!(fingerprint(&db) == before);
}

// ---- file errors name their cause ----

#[test]
fn a_database_folder_the_user_cannot_write_is_reported_as_permission_denied() {
    let dir = tempfile::tempdir().unwrap();
    set_mode(dir.path(), 0o755);
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    set_mode(&data, 0o555);
    let config = dir.path().join("tributary.toml");
    std::fs::write(&config, "[storage]\ndatabase = \"data/t.db\"\n").unwrap();
    set_mode(&config, 0o644);

    let check = tributary_unprivileged(&config, &["check"]);
    let err = stderr(&check);
    assert_eq!(check.status.code(), Some(1), "{}{err}", stdout(&check));
    assert!(err.contains("permission denied"), "{err}");
    assert!(err.contains(&data.display().to_string()), "{err}");

    let poll = tributary_unprivileged(&config, &["poll"]);
    let err = stderr(&poll);
    assert_eq!(poll.status.code(), Some(1), "{err}");
    assert!(err.contains("permission denied"), "{err}");
    assert!(err.contains(&data.display().to_string()), "{err}");
    assert!(listing(&data).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn database_files_the_user_cannot_write_are_named_before_any_write() {
    let host = FeedHost::start().await;
    let setup = polled(&host).await;
    let db = setup.database();
    set_mode(setup.dir.path(), 0o755);
    set_mode(&setup.config, 0o644);
    // SQLite opens a file it may not write for reading without a word, and
    // only a write fails later, as "attempt to write a readonly database".
    for file in [db.clone(), wal(&db), shm(&db)] {
        for path in [db.clone(), wal(&db), shm(&db)] {
            set_mode(&path, if path == file { 0o644 } else { 0o666 });
        }
        for command in ["poll", "check"] {
            let out = tributary_unprivileged(&setup.config, &[command]);
            let err = stderr(&out);
            assert_eq!(out.status.code(), Some(1), "{command} {file:?}: {err}");
            assert!(
                err.contains(&format!(
                    "permission denied: the file {} cannot be written",
                    file.display()
                )),
                "{command}: {err}"
            );
        }
    }
}

#[test]
fn check_reports_a_database_file_that_is_no_database() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("t.db"), "notes, not a database").unwrap();
    let config = dir.path().join("tributary.toml");
    std::fs::write(&config, "[storage]\ndatabase = \"t.db\"\n").unwrap();
    let check = tributary(&config, &["check"], &[]);
    let err = stderr(&check);
    assert_eq!(check.status.code(), Some(1), "{err}");
    assert!(err.contains("not a database file"), "{err}");
}

#[test]
fn check_says_a_default_database_folder_it_cannot_write_is_not_what_the_service_uses() {
    // By hand, without systemd, the default database sits beside the config;
    // the service keeps it in its state folder instead. A folder the person
    // running check cannot write is worth a note, not a failure.
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("tributary.toml");
    std::fs::write(&config, "").unwrap();
    set_mode(&config, 0o644);
    set_mode(dir.path(), 0o555);
    let check = tributary_unprivileged(&config, &["check"]);
    set_mode(dir.path(), 0o755);
    let err = stderr(&check);
    assert!(check.status.success(), "{err}");
    assert!(err.contains("permission denied"), "{err}");
    assert!(err.contains("$STATE_DIRECTORY/tributary.db"), "{err}");
}

#[test]
fn check_under_systemd_fails_when_the_configured_database_folder_is_read_only() {
    // The template's old default uncommented: the database moves beside the
    // config, into a folder the unit mounts read-only.
    let dir = tempfile::tempdir().unwrap();
    let state = tempfile::tempdir().unwrap();
    let config = dir.path().join("tributary.toml");
    std::fs::write(&config, "[storage]\ndatabase = \"tributary.db\"\n").unwrap();
    set_mode(&config, 0o644);
    set_mode(dir.path(), 0o555);
    set_mode(state.path(), 0o777);
    let mut cmd = command(&config, &["check"], &[], true);
    cmd.env("STATE_DIRECTORY", state.path());
    let check = cmd.output().unwrap();
    set_mode(dir.path(), 0o755);
    let err = stderr(&check);
    assert_eq!(check.status.code(), Some(1), "{err}");
    assert!(err.contains("permission denied"), "{err}");
    assert!(err.contains(&dir.path().display().to_string()), "{err}");
}

#[test]
fn check_reports_a_database_path_through_a_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("data"), "a file, not a folder").unwrap();
    let config = dir.path().join("tributary.toml");
    std::fs::write(&config, "[storage]\ndatabase = \"data/t.db\"\n").unwrap();
    let check = tributary(&config, &["check"], &[]);
    let err = stderr(&check);
    assert_eq!(check.status.code(), Some(1), "{err}");
    assert!(err.contains("not a directory"), "{err}");
}

#[test]
fn the_shipped_config_and_the_unit_agree_on_where_the_database_is() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let unit = std::fs::read_to_string(root.join("systemd/tributary.service")).unwrap();
    let state_dir = unit
        .lines()
        .find_map(|l| l.strip_prefix("StateDirectory="))
        .expect("the unit names a state folder")
        .trim();
    let shipped = std::fs::read_to_string(root.join("config/tributary.toml")).unwrap();
    let commented = shipped
        .lines()
        .find_map(|l| l.strip_prefix("# database = "))
        .expect("the template shows the database setting");
    let value: String = toml::from_str::<toml::Table>(&format!("v = {commented}")).unwrap()["v"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(value, format!("/var/lib/{state_dir}/tributary.db"));

    // And check run as the unit runs it (no database setting) names that file.
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("tributary.toml");
    std::fs::write(&config, "").unwrap();
    let state = dir.path().join("state");
    std::fs::create_dir(&state).unwrap();
    let out = tributary(
        &config,
        &["check"],
        &[("STATE_DIRECTORY", state.to_str().unwrap())],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stdout(&out).contains(&format!(
            "database: {}",
            state.join("tributary.db").display()
        )),
        "{}",
        stdout(&out)
    );
}

// ---- links follow `listen` ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_base_url_links_are_built_from_listen() {
    let host = FeedHost::start().await;
    let setup = polled(&host).await;
    for (listen, base) in [
        ("127.0.0.1:8094", "http://127.0.0.1:8094/"),
        ("localhost:8095", "http://localhost:8095/"),
        ("[::1]:8096", "http://[::1]:8096/"),
    ] {
        let text = std::fs::read_to_string(&setup.config).unwrap();
        let text = match text.find("\n[server]") {
            Some(at) => text[..at].to_string(),
            None => text,
        };
        std::fs::write(
            &setup.config,
            format!("{text}\n[server]\nlisten = \"{listen}\"\n"),
        )
        .unwrap();
        let check = tributary(&setup.config, &["check"], &[]);
        assert!(check.status.success(), "{listen}: {}", stderr(&check));
        assert!(stdout(&check).contains(base), "{}", stdout(&check));
        let atom = tributary(&setup.config, &["export", "--format", "atom"], &[]);
        let atom = stdout(&atom);
        assert!(
            atom.contains(&format!("href=\"{base}feed.atom\"")),
            "{listen}: {atom}"
        );
        assert!(!atom.contains(":8080"), "{atom}");
        let json = tributary(&setup.config, &["export", "--format", "json"], &[]);
        let json: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
        assert_eq!(json["home_page_url"], base);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_explicit_base_url_still_wins_over_listen() {
    let host = FeedHost::start().await;
    let setup = polled(&host).await;
    let text = std::fs::read_to_string(&setup.config).unwrap();
    std::fs::write(
        &setup.config,
        format!(
            "{text}\n[server]\nlisten = \"127.0.0.1:8094\"\nbase_url = \"https://feeds.example/news\"\n"
        ),
    )
    .unwrap();
    let atom = tributary(&setup.config, &["export", "--format", "atom"], &[]);
    let atom = stdout(&atom);
    assert!(
        atom.contains("href=\"https://feeds.example/news/feed.atom\""),
        "{atom}"
    );
    assert!(!atom.contains("8094"), "{atom}");
}

// ---- inspect follows a page to its feed ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inspect_follows_a_page_to_the_feed_it_links_and_says_so() {
    let host = FeedHost::start().await;
    host.set_feed(
        "blog",
        &rss(&["<guid>1</guid><title>Hello</title>".to_string()]),
    );
    let out = run_tributary(
        Path::new("unused.toml"),
        &["inspect", &host.url("/page/blog")],
    )
    .await;
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["found_at"], host.url("/f/blog"));
    assert_eq!(json["items"][0]["title"], "Hello");
    assert!(
        err.contains(&host.url("/page/blog")) && err.contains(&host.url("/f/blog")),
        "a note on stderr says which feed was read: {err}"
    );

    // A feed read directly was found where it was asked for.
    let direct = run_tributary(Path::new("unused.toml"), &["inspect", &host.url("/f/blog")]).await;
    let json: serde_json::Value = serde_json::from_slice(&direct.stdout).unwrap();
    assert_eq!(json["found_at"], serde_json::Value::Null);
    assert!(direct.stderr.is_empty(), "{}", stderr(&direct));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inspect_does_not_follow_a_page_to_a_local_file() {
    let dir = tempfile::tempdir().unwrap();
    let feed = dir.path().join("secret.xml");
    std::fs::write(&feed, rss(&["<title>Local</title>".to_string()])).unwrap();
    let page = dir.path().join("page.html");
    std::fs::write(
        &page,
        format!(
            "<!DOCTYPE html><html><head><link rel=\"alternate\" type=\"application/rss+xml\" href=\"file://{}\"></head><body></body></html>",
            feed.display()
        ),
    )
    .unwrap();
    let out = run_tributary(
        Path::new("unused.toml"),
        &["inspect", page.to_str().unwrap()],
    )
    .await;
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let err = stderr(&out);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    // A page read from a file is not followed at all (nor to the network).
    assert!(err.contains("HTML page"), "{err}");
    assert!(!err.contains("secret.xml"), "{err}");
}

// ---- a closed pipe is a normal end ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_command_ends_quietly_when_its_reader_goes_away() {
    let host = FeedHost::start().await;
    let setup = polled(&host).await;
    let opml = setup.dir.path().join("in.opml");
    std::fs::write(
        &opml,
        "<opml version=\"2.0\"><body><outline text=\"X\" type=\"rss\" xmlUrl=\"https://x.example/feed\"/></body></opml>",
    )
    .unwrap();
    let demo_feed = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/demo/commons-wire.atom");
    let commands: Vec<Vec<&str>> = vec![
        vec!["check"],
        vec!["sources"],
        vec!["sources", "--json"],
        vec!["export", "--format", "atom"],
        vec!["export", "--format", "rss"],
        vec!["export", "--format", "json"],
        vec!["export-opml"],
        vec!["import-opml", opml.to_str().unwrap()],
        vec!["completions", "bash"],
        vec!["inspect", demo_feed.to_str().unwrap()],
        vec!["poll"],
        vec!["poll", "--json"],
        vec!["--help"],
    ];
    for args in commands {
        // `tributary ... | head -0`: the reading end is closed before the
        // command writes its first byte.
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let out = command(&setup.config, &args, &[], false)
            .stdout(writer)
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", stderr(&out));
        assert!(out.stderr.is_empty(), "{args:?} printed: {}", stderr(&out));
    }
}

// ---- counts read as words ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_count_of_one_is_singular() {
    let host = FeedHost::start().await;
    host.set_feed(
        "one",
        &rss(&["<guid>1</guid><title>Only</title>".to_string()]),
    );
    let setup = Setup::new("", &[("One", host.url("/f/one"))]);
    let mut text = std::fs::read_to_string(&setup.config).unwrap();
    text.push_str("\n[[rule]]\ncategory = \"x\"\ntitle = \"Only\"\n");
    std::fs::write(&setup.config, &text).unwrap();

    let check = stdout(&tributary(&setup.config, &["check"], &[]));
    assert!(check.contains("1 source:"), "{check}");
    assert!(check.contains("1 rule\n"), "{check}");

    let poll = tributary(&setup.config, &["poll"], &[]);
    let poll = stdout(&poll);
    assert!(poll.starts_with("polled 1 source: "), "{poll}");

    let bad = setup.dir.path().join("bad.toml");
    std::fs::write(&bad, "[poll]\nbogus = 1\n").unwrap();
    let err = stderr(&tributary(&bad, &["check"], &[]));
    assert!(err.contains("config has 1 problem;"), "{err}");

    let opml = setup.dir.path().join("in.opml");
    std::fs::write(
        &opml,
        "<opml version=\"2.0\"><body><outline text=\"X\" type=\"rss\" xmlUrl=\"https://x.example/feed\"/></body></opml>",
    )
    .unwrap();
    let import = stdout(&tributary(
        &setup.config,
        &["import-opml", opml.to_str().unwrap(), "--write"],
        &[],
    ));
    assert!(import.starts_with("added 1 of 1 feed to "), "{import}");

    host.set_feed(
        "another",
        &rss(&["<guid>1</guid><title>Single</title>".to_string()]),
    );
    let add = stdout(&tributary(
        &setup.config,
        &["add", &host.url("/f/another"), "--name", "Another"],
        &[],
    ));
    assert!(add.contains("1 item now"), "{add}");

    let local = setup.dir.path().join("local.toml");
    std::fs::write(
        &local,
        "[[source]]\nname = \"L\"\nurl = \"feed.xml\"\n[[source]]\nname = \"R\"\nurl = \"https://r.example/feed\"\n",
    )
    .unwrap();
    let err = stderr(&tributary(&local, &["export-opml"], &[]));
    assert!(
        err.contains("1 source read from a local file left out"),
        "{err}"
    );
}
