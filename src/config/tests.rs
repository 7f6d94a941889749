//! Tests of reading, validating and reporting config files.

use std::collections::HashSet;
use std::fmt;
use std::net::SocketAddr;
use std::time::Duration;

use regex::Regex;
use serde::Deserialize;

use super::dedup::DedupConfig;
use super::poll::PollConfig;
use super::rules::RuleConfig;
use super::server::ServerConfig;
use super::sources::{SourceConfig, source_url_with_credentials};
use super::storage::StorageConfig;
use super::*;
use crate::categorize::RuleAction;
use crate::model::IdentityMode;
use crate::store::FoldPolicy;

#[test]
fn the_default_dedup_section_is_the_stores_default_fold_policy() {
    assert_eq!(FoldPolicy::from(&Dedup::default()), FoldPolicy::default());
}

fn load(text: &str) -> Result<Config, Vec<Problem>> {
    Config::from_str(text, Path::new("/etc/tributary/tributary.toml")).map_err(|e| match e {
        ConfigError::Invalid { problems, .. } => problems,
        other => panic!("unexpected {other}"),
    })
}

#[test]
fn empty_file_gives_defaults() {
    let c = load("").unwrap();
    assert_eq!(c.poll.concurrency, 64);
    assert_eq!(c.poll.per_host, 2);
    assert_eq!(c.poll.timeout, Duration::from_secs(30));
    assert_eq!(c.poll.max_body, 10 * 1024 * 1024);
    assert!(c.poll.user_agent.starts_with("tributary/0."));
    assert_eq!(c.storage.retention, Duration::from_secs(90 * 86400));
    assert!(c.dedup.across_feeds);
    assert_eq!(c.server.limit, 100);
}

#[test]
fn server_limits_have_defaults_and_are_checked() {
    let c = load("").unwrap();
    assert_eq!(c.server.cache_size, 64 * 1024 * 1024);
    assert_eq!(c.server.max_connections, 1024);
    assert_eq!(c.server.header_timeout, Duration::from_secs(10));
    assert_eq!(c.server.idle_timeout, Duration::from_secs(60));
    let c = load("[server]\ncache_size = \"0\"\nidle_timeout = \"5m\"\n").unwrap();
    assert_eq!(
        (c.server.cache_size, c.server.idle_timeout.as_secs()),
        (0, 300)
    );
    let text = "[server]\ncache_size = \"lots\"\nmax_connections = 0\nheader_timeout = \"0s\"\nidle_timeout = \"soon\"\n";
    let problems = load(text).unwrap_err();
    let lines: Vec<usize> = problems.iter().map(|p| p.line).collect();
    assert_eq!(lines, [2, 3, 4, 5], "{problems:?}");
}

#[test]
fn sizes_are_read_alike_and_a_zero_body_is_refused() {
    let c = load("[poll]\nmax_body = \"2 MiB\"\n[server]\ncache_size = \"1KiB\"\n").unwrap();
    assert_eq!((c.poll.max_body, c.server.cache_size), (2 << 20, 1024));
    let text = "[poll]\nmax_body = \"big\"\n[server]\ncache_size = \"lots\"\n";
    let messages: Vec<String> = load(text)
        .unwrap_err()
        .into_iter()
        .map(|p| format!("{}:{} {}", p.line, p.column, p.message))
        .collect();
    assert_eq!(messages.len(), 2, "{messages:?}");
    assert!(
        messages[0].starts_with("2:12 invalid size \"big\" for `max_body`: ")
            && messages[0].ends_with("(write e.g. \"10MiB\")"),
        "{messages:?}"
    );
    assert!(
        messages[1].starts_with("4:14 invalid size \"lots\" for `cache_size`: ")
            && messages[1].ends_with("(write e.g. \"64MiB\")"),
        "{messages:?}"
    );
    let problems = load("[poll]\nmax_body = \"0\"\n").unwrap_err();
    assert_eq!(problems[0].message, "`max_body` must be larger than 0");
}

#[test]
fn relative_database_resolves_against_config_folder() {
    let c = load("[storage]\ndatabase = \"data/feeds.db\"\n").unwrap();
    assert_eq!(
        c.storage.database,
        Path::new("/etc/tributary/data/feeds.db")
    );
    let c = load("[storage]\ndatabase = \"/var/lib/x.db\"\n").unwrap();
    assert_eq!(c.storage.database, Path::new("/var/lib/x.db"));
}

#[test]
fn misspelt_key_is_reported_with_its_line_and_column() {
    let problems = load("[poll]\nconcurrency = 4\nper_hots = 2\n").unwrap_err();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert_eq!((problems[0].line, problems[0].column), (3, 1));
    assert!(
        problems[0].message.contains("per_hots"),
        "{}",
        problems[0].message
    );
}

#[test]
fn every_problem_is_reported_at_once() {
    let text = r#"
[poll]
timeout = "soon"
concurrency = 0
bogus = 1

[server]
limit = 5000

[[source]]
name = "a"
url = "gopher://x"
colour = "red"

[[source]]
name = "a"
url = "https://example.org/feed"
schedule = "every hour"

[[rule]]
title = "(unclosed"
category = "x"
"#;
    let problems = load(text).unwrap_err();
    let lines: Vec<usize> = problems.iter().map(|p| p.line).collect();
    // bogus, colour, timeout, concurrency, limit, gopher, duplicate name, schedule, regex
    for line in [3, 4, 5, 8, 12, 13, 16, 18, 21] {
        assert!(
            lines.contains(&line),
            "line {line} missing from {problems:#?}"
        );
    }
}

#[test]
fn syntax_error_names_its_position() {
    let problems = load("[poll]\nconcurrency = = 3\n").unwrap_err();
    assert_eq!(problems[0].line, 2, "{problems:?}");
}

#[test]
fn sources_resolve_paths_and_keep_category_labels() {
    let c = load(
        "[[source]]\nname = \"Local\"\nurl = \"feeds/a.xml\"\ncategories = [\" AI \", \"ai\", \"Rust\"]\nidentity = \"link\"\n",
    )
    .unwrap();
    let s = &c.sources[0];
    assert_eq!(s.url.as_str(), "file:///etc/tributary/feeds/a.xml");
    assert_eq!(s.categories, ["AI", "Rust"]);
    assert_eq!(s.identity, IdentityMode::Link);
    assert!(s.feed_categories, "feed categories are kept by default");
}

#[test]
fn a_source_may_turn_its_feeds_categories_off_and_names_no_empty_category() {
    let c =
        load("[[source]]\nname = \"x\"\nurl = \"https://a.example/\"\nfeed_categories = false\n")
            .unwrap();
    assert!(!c.sources[0].feed_categories);
    let problems = load(
        "[[source]]\nname = \"x\"\nurl = \"https://a.example/\"\nfeed_categories = \"no\"\n\
         [[source]]\nname = \"y\"\nurl = \"https://b.example/\"\nfeed_category = true\n\
         [[source]]\nname = \"z\"\nurl = \"https://c.example/\"\ncategories = [\"ok\", \"!!\"]\n",
    )
    .unwrap_err();
    let at: Vec<(usize, usize)> = problems.iter().map(|p| (p.line, p.column)).collect();
    assert_eq!(at, [(4, 19), (8, 1), (12, 21)], "{problems:#?}");
    assert!(
        problems[1].message.contains("feed_category"),
        "{problems:?}"
    );
    assert!(
        problems[2].message.contains("no letter or digit"),
        "{problems:?}"
    );
}

#[test]
fn unknown_identity_mode_is_rejected() {
    let problems =
        load("[[source]]\nname = \"x\"\nurl = \"https://a.example/\"\nidentity = \"uuid\"\n")
            .unwrap_err();
    assert_eq!(problems[0].line, 4, "{problems:?}");
}

#[test]
fn rule_needs_an_action_and_a_matcher() {
    assert!(load("[[rule]]\ntitle = \"x\"\n").is_err());
    assert!(load("[[rule]]\ncategory = \"x\"\n").is_err());
    assert!(load("[[rule]]\ncategory = \"x\"\ndrop = true\ntitle = \"y\"\n").is_err());
    let c = load("[[rule]]\ndrop = true\ntitle = \"(?i)sponsored\"\n").unwrap();
    assert_eq!(c.rules[0].action, RuleAction::Drop);
}

#[test]
fn error_display_is_file_line_column() {
    let err = Config::from_str("[poll]\nbogus = 1\n", Path::new("t.toml")).unwrap_err();
    let text = err.to_string();
    assert!(text.starts_with("t.toml:2:1: "), "{text}");
}

/// The names of a struct's fields, as serde sees them.
fn field_names<'de, T: Deserialize<'de>>() -> &'static [&'static str] {
    struct Catch(Option<&'static [&'static str]>);
    #[derive(Debug)]
    struct Stop;
    impl std::fmt::Display for Stop {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("stop")
        }
    }
    impl std::error::Error for Stop {}
    impl serde::de::Error for Stop {
        fn custom<M: fmt::Display>(_: M) -> Self {
            Stop
        }
    }
    impl<'de> serde::Deserializer<'de> for &mut Catch {
        type Error = Stop;
        fn deserialize_any<V: serde::de::Visitor<'de>>(self, _: V) -> Result<V::Value, Stop> {
            Err(Stop)
        }
        fn deserialize_struct<V: serde::de::Visitor<'de>>(
            self,
            _: &'static str,
            fields: &'static [&'static str],
            _: V,
        ) -> Result<V::Value, Stop> {
            self.0 = Some(fields);
            Err(Stop)
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
            bytes byte_buf option unit unit_struct newtype_struct seq tuple
            tuple_struct map enum identifier ignored_any
        }
    }
    let mut catch = Catch(None);
    let _ = T::deserialize(&mut catch);
    catch.0.expect("a struct")
}

fn shipped_config() -> String {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/config/tributary.toml"
    ))
    .expect("config/tributary.toml is shipped")
}

/// The shipped file with its commented-out settings turned on.
fn uncommented(text: &str) -> String {
    let setting = Regex::new(r"^# ?((\[\[?[a-z]+\]\]?)|([a-z_]+ = .*))$").unwrap();
    text.lines()
        .map(|line| match setting.captures(line) {
            Some(c) => c[1].to_string(),
            None => line.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn shipped_config_documents_every_key() {
    let text = uncommented(&shipped_config());
    let table: toml::Table = toml::from_str(&text).expect("uncommented config parses");
    let documented = |section: &str| -> HashSet<String> {
        match &table[section] {
            toml::Value::Table(t) => t.keys().cloned().collect(),
            toml::Value::Array(a) => a
                .iter()
                .flat_map(|t| t.as_table().unwrap().keys().cloned())
                .collect(),
            other => panic!("{section} is {other:?}"),
        }
    };
    let expected = [
        ("storage", field_names::<StorageConfig>()),
        ("poll", field_names::<PollConfig>()),
        ("server", field_names::<ServerConfig>()),
        ("dedup", field_names::<DedupConfig>()),
        ("source", field_names::<SourceConfig>()),
        ("rule", field_names::<RuleConfig>()),
    ];
    assert_eq!(expected.len(), SECTIONS.len());
    for (section, fields) in expected {
        let have = documented(section);
        for field in fields {
            assert!(
                have.contains(*field),
                "config/tributary.toml lacks {section}.{field}"
            );
        }
    }
}

#[test]
fn credentials_come_from_the_environment_and_only_into_the_user_info() {
    let env = |name: &str| match name {
        "FEED_TOKEN" => Some("t0k:en@/x".to_string()),
        "FEED_USER" => Some("reader".to_string()),
        _ => None,
    };
    let dir = Path::new("/etc/tributary");
    let url = source_url_with_credentials(
        "https://${FEED_USER}:${FEED_TOKEN}@feeds.example/private.xml",
        dir,
        env,
    )
    .unwrap();
    assert_eq!(url.username(), "reader");
    assert_eq!(url.password().map(percent_decode), Some("t0k:en@/x".into()));
    assert_eq!(url.host_str(), Some("feeds.example"));
    assert_eq!(url.path(), "/private.xml");
    for bad in [
        "https://feeds.example/private.xml?token=${FEED_TOKEN}",
        "https://${FEED_TOKEN}.feeds.example/",
        "https://feeds.example/${FEED_TOKEN}",
        "file:///${FEED_TOKEN}@/x",
    ] {
        let e = source_url_with_credentials(bad, dir, env).unwrap_err();
        assert!(e.contains("user-info"), "{bad}: {e}");
    }
    let e = source_url_with_credentials("https://u:${NOPE}@h.example/", dir, env).unwrap_err();
    assert!(e.contains("\"NOPE\" is not set"), "{e}");
}

fn percent_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={s}").as_bytes())
        .next()
        .unwrap()
        .1
        .into_owned()
}

#[test]
fn a_user_agent_no_http_header_can_carry_is_refused() {
    let e = Config::from_str(
        "[poll]\nuser_agent = \"bot\\u0007/1\"\n",
        Path::new("t.toml"),
    )
    .unwrap_err();
    let ConfigError::Invalid { problems, .. } = e else {
        panic!("{e}")
    };
    assert_eq!((problems[0].line, problems[0].column), (2, 14));
    assert!(problems[0].message.contains("user_agent"), "{:?}", problems);
}

/// The folder systemd gives the shipped unit as `$STATE_DIRECTORY`.
fn unit_state_dir() -> PathBuf {
    let unit = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/systemd/tributary.service"
    ))
    .expect("systemd/tributary.service is shipped");
    let name = unit
        .lines()
        .find_map(|l| l.strip_prefix("StateDirectory="))
        .expect("the unit has a state folder");
    Path::new("/var/lib").join(name.trim())
}

#[test]
fn shipped_config_shows_the_real_defaults() {
    // The defaults as the service sees them: under systemd, with the
    // unit's state folder, and with the config where the unit reads it.
    let path = Path::new("/etc/tributary/tributary.toml");
    let state = unit_state_dir();
    let documented =
        Config::from_str_in(&uncommented(&shipped_config()), path, Some(&state)).unwrap();
    let defaults = Config::from_str_in("", path, Some(&state)).unwrap();
    assert_eq!(documented.storage.database, defaults.storage.database);
    assert_eq!(
        (
            documented.storage.retention,
            documented.storage.keep_per_source
        ),
        (defaults.storage.retention, defaults.storage.keep_per_source)
    );
    assert_eq!(documented.poll, defaults.poll);
    let (mut shown, mut server) = (documented.server.clone(), defaults.server.clone());
    // Set or built from `listen`, the default base_url is the same address.
    shown.base_url_explicit = false;
    server.base_url_explicit = false;
    assert_eq!(shown, server);
    assert_eq!(documented.dedup, defaults.dedup);
    assert!(!documented.sources.is_empty() && !documented.rules.is_empty());
}

#[test]
fn the_database_path_says_how_it_was_chosen() {
    let path = Path::new("/etc/tributary/tributary.toml");
    let state = Path::new("/var/lib/tributary");
    let c = Config::from_str_in("", path, Some(state)).unwrap();
    assert_eq!(
        c.storage.database,
        Path::new("/var/lib/tributary/tributary.db")
    );
    assert_eq!(c.storage.database_from, DatabaseFrom::StateDirectory);
    let c = Config::from_str_in("", path, None).unwrap();
    assert_eq!(c.storage.database, Path::new("/etc/tributary/tributary.db"));
    assert_eq!(c.storage.database_from, DatabaseFrom::BesideConfig);
    // A setting wins over the state folder, relative to the config's folder.
    let c = Config::from_str_in("[storage]\ndatabase = \"t.db\"\n", path, Some(state)).unwrap();
    assert_eq!(c.storage.database, Path::new("/etc/tributary/t.db"));
    assert_eq!(
        c.storage.database_from,
        DatabaseFrom::Setting("t.db".into())
    );
}

#[test]
fn without_base_url_links_follow_listen() {
    let cases = [
        ("127.0.0.1:8094", "127.0.0.1:8094", "http://127.0.0.1:8094/"),
        ("localhost:8095", "127.0.0.1:8095", "http://localhost:8095/"),
        ("LocalHost:80", "127.0.0.1:80", "http://localhost/"),
        ("[::1]:8096", "[::1]:8096", "http://[::1]:8096/"),
        ("0.0.0.0:8080", "0.0.0.0:8080", "http://0.0.0.0:8080/"),
    ];
    for (listen, addr, base) in cases {
        let c = load(&format!("[server]\nlisten = \"{listen}\"\n")).unwrap();
        assert_eq!(c.server.listen.to_string(), addr, "{listen}");
        assert_eq!(c.server.base_url.as_str(), base, "{listen}");
        assert!(!c.server.base_url_explicit);
    }
    let c = load("").unwrap();
    assert_eq!(c.server.base_url.as_str(), "http://127.0.0.1:8080/");
    assert!(
        load("[server]\nlisten = \"0.0.0.0:1\"\n")
            .unwrap()
            .server
            .base_url_unreachable()
    );
}

#[test]
fn a_listen_address_that_is_no_address_is_refused() {
    for bad in ["example.org:80", "localhost", "localhost:http", "127.0.0.1"] {
        let problems = load(&format!("[server]\nlisten = \"{bad}\"\n")).unwrap_err();
        assert_eq!(problems.len(), 1, "{bad}: {problems:?}");
        assert!(problems[0].message.contains("listen"), "{problems:?}");
    }
}

#[test]
fn base_url_for_a_bound_port_keeps_an_explicit_base_url() {
    let bound: SocketAddr = "127.0.0.1:40123".parse().unwrap();
    let derived = load("[server]\nlisten = \"localhost:0\"\n").unwrap();
    assert_eq!(
        derived.server.base_url_for(bound).as_str(),
        "http://localhost:40123/"
    );
    let explicit =
        load("[server]\nlisten = \"127.0.0.1:0\"\nbase_url = \"https://feeds.example/x\"\n")
            .unwrap();
    assert!(explicit.server.base_url_explicit);
    assert_eq!(
        explicit.server.base_url_for(bound).as_str(),
        "https://feeds.example/x/"
    );
}
