//! The configuration file: `[defaults]` and named sites (`[sites.NAME]`), read once.
//!
//! `$XDG_CONFIG_HOME/3700ftp/config.toml`, else `~/.config/3700ftp/config.toml`, else the
//! file `--config FILE` or `FTP3700_CONFIG` names (which must then exist). Every table takes
//! the global options (`tls`, `active`, `port_range`, `verify`, `proxy`, `limit_rate`,
//! `parallel`, `timeout`, `pin`, `password_command`); a site also takes its `url`, which may
//! not hold a password. A bad file is one error naming the file and the line.
//!
//! What is here is pure but for [`load`] (which reads the file): the layers and their
//! precedence (`Layer::over`: the command line over the site over `[defaults]` over the
//! built-in values) and the `NAME:PATH` operand rule ([`Config::split_operand`]).

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use crate::error::{Error, Result};
use crate::fingerprint::Fingerprint;
use crate::url::FtpUrl;
use crate::verify::Verify;

/// The global options one layer sets (None: left to the layer below).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Layer {
    /// `--tls`.
    pub tls: Option<bool>,
    /// `--active`.
    pub active: Option<bool>,
    /// `--port-range`.
    pub port_range: Option<(u16, u16)>,
    /// `--verify`.
    pub verify: Option<Verify>,
    /// `--proxy`, as written.
    pub proxy: Option<String>,
    /// `--limit-rate`, in bytes per second.
    pub limit_rate: Option<u64>,
    /// The default of `-j N`.
    pub parallel: Option<usize>,
    /// `--timeout`, in seconds.
    pub timeout: Option<f64>,
    /// `--pin` (certificate fingerprints).
    pub pins: Option<Vec<Fingerprint>>,
    /// `password_command`, split into words.
    pub password_command: Option<Vec<String>>,
}

impl Layer {
    /// This layer with what it leaves unset taken from `lower`.
    pub fn over(&self, lower: &Layer) -> Layer {
        fn pick<T: Clone>(a: &Option<T>, b: &Option<T>) -> Option<T> {
            a.clone().or_else(|| b.clone())
        }
        Layer {
            tls: pick(&self.tls, &lower.tls),
            active: pick(&self.active, &lower.active),
            port_range: pick(&self.port_range, &lower.port_range),
            verify: pick(&self.verify, &lower.verify),
            proxy: pick(&self.proxy, &lower.proxy),
            limit_rate: pick(&self.limit_rate, &lower.limit_rate),
            parallel: pick(&self.parallel, &lower.parallel),
            timeout: pick(&self.timeout, &lower.timeout),
            pins: pick(&self.pins, &lower.pins),
            password_command: pick(&self.password_command, &lower.password_command),
        }
    }
}

/// The built-in `--timeout`, in seconds.
pub const DEFAULT_TIMEOUT: f64 = 20.0;

/// One `[sites.NAME]` table.
#[derive(Debug, Clone)]
pub struct Site {
    /// The name, as `NAME:PATH` and `open NAME` use it.
    pub name: String,
    /// Its `url` (no password).
    pub url: FtpUrl,
    /// Its options.
    pub layer: Layer,
}

/// The whole file.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// `[defaults]`.
    pub defaults: Layer,
    /// The sites, sorted by name.
    pub sites: Vec<Site>,
}

impl Config {
    /// The site called `name`.
    pub fn site(&self, name: &str) -> Option<&Site> {
        self.sites.iter().find(|s| s.name == name)
    }

    /// `NAME:PATH` when NAME is a site of this file: the site and PATH. Anything else
    /// (`./work:x`, `/tmp/a:b`, `C:\x` with no site `C`, a URL) is not a site operand.
    pub fn split_operand<'a>(&self, word: &'a str) -> Option<(&Site, &'a str)> {
        let (name, path) = site_word(word)?;
        self.site(name).map(|s| (s, path))
    }
}

/// `NAME:PATH` split, when it has that shape (NAME a valid site name, not `NAME://`);
/// whether NAME is a site is the caller's question.
pub fn site_word(word: &str) -> Option<(&str, &str)> {
    let (name, path) = word.split_once(':')?;
    (valid_name(name) && !path.starts_with("//")).then_some((name, path))
}

/// Which file to read: `explicit` (`--config`), else `FTP3700_CONFIG`, both required to
/// exist; else `$XDG_CONFIG_HOME/3700ftp/config.toml` (an absolute XDG_CONFIG_HOME only,
/// as the XDG rules say), else `~/.config/3700ftp/config.toml`, read when present.
pub fn locate(
    explicit: Option<PathBuf>,
    env: &dyn Fn(&str) -> Option<OsString>,
    home: Option<PathBuf>,
) -> Option<(PathBuf, bool)> {
    if let Some(p) = explicit {
        return Some((p, true));
    }
    if let Some(p) = env("FTP3700_CONFIG").filter(|v| !v.is_empty()) {
        return Some((PathBuf::from(p), true));
    }
    let base = env("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| home.map(|h| h.join(".config")))?;
    Some((base.join("3700ftp").join("config.toml"), false))
}

/// Reads the file at `path`; a missing file is an empty configuration unless `required`.
pub fn load(path: &Path, required: bool) -> Result<Config> {
    match std::fs::read_to_string(path) {
        Ok(text) => parse(&text, &path.display().to_string()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => Ok(Config::default()),
        Err(e) => Err(Error::usage(format!(
            "config file {}: {}",
            path.display(),
            crate::error::describe_io(&e)
        ))),
    }
}

/// A number that may be written as an integer or a float.
#[derive(Deserialize, Clone, Copy)]
#[serde(untagged)]
enum Number {
    Int(i64),
    Float(f64),
}

/// A rate: bytes per second, or text such as `"500K"`.
#[derive(Deserialize, Clone)]
#[serde(untagged)]
enum Rate {
    Bytes(i64),
    Text(String),
}

/// One fingerprint or a list of them.
#[derive(Deserialize, Clone)]
#[serde(untagged)]
enum Pins {
    One(String),
    Many(Vec<String>),
}

/// A table as written: `[defaults]` or `[sites.NAME]`.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct Table {
    url: Option<Spanned<String>>,
    tls: Option<bool>,
    active: Option<bool>,
    port_range: Option<Spanned<String>>,
    verify: Option<Spanned<String>>,
    proxy: Option<Spanned<String>>,
    limit_rate: Option<Spanned<Rate>>,
    parallel: Option<Spanned<i64>>,
    timeout: Option<Spanned<Number>>,
    pin: Option<Spanned<Pins>>,
    password_command: Option<Spanned<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    defaults: Option<Spanned<Table>>,
    #[serde(default)]
    sites: BTreeMap<Spanned<String>, Spanned<Table>>,
}

/// Parses the text of a configuration file; `shown` names it in errors.
pub fn parse(text: &str, shown: &str) -> Result<Config> {
    let line_of = |at: usize| text[..at.min(text.len())].matches('\n').count() + 1;
    let err = |at: usize, msg: &str| {
        Error::usage(format!("config file {shown}, line {}: {msg}", line_of(at)))
    };
    let file: File = toml::from_str(text).map_err(|e| {
        let at = e.span().map_or(0, |s| s.start);
        err(at, e.message().trim_end())
    })?;
    let mut config = Config::default();
    if let Some(d) = file.defaults {
        if let Some(url) = &d.get_ref().url {
            return Err(err(
                url.span().start,
                "`url` belongs in a [sites.NAME] table, not in [defaults]",
            ));
        }
        config.defaults = layer(d.get_ref(), &err)?;
    }
    for (name, table) in file.sites {
        let at = name.span().start;
        let name = name.into_inner();
        if !valid_name(&name) {
            return Err(err(at, &format!("site name '{name}': use letters, digits, '-', '_' and '.', starting with a letter or digit")));
        }
        let t = table.get_ref();
        let Some(url_text) = &t.url else {
            return Err(err(
                table.span().start,
                &format!("site '{name}' has no url"),
            ));
        };
        let at = url_text.span().start;
        let url = FtpUrl::parse(url_text.get_ref()).map_err(|e| err(at, e.message()))?;
        if url.password.is_some() {
            return Err(err(at, &format!("site '{name}': no password in the config file (use ~/.netrc, password_command, or type it when asked)")));
        }
        config.sites.push(Site {
            name,
            url,
            layer: layer(t, &err)?,
        });
    }
    Ok(config)
}

/// A site name: letters, digits, `-`, `_`, `.`; first a letter or digit.
fn valid_name(name: &str) -> bool {
    name.chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
}

/// The options of one table, each checked as its command-line twin is.
fn layer(t: &Table, err: &dyn Fn(usize, &str) -> Error) -> Result<Layer> {
    let mut l = Layer {
        tls: t.tls,
        active: t.active,
        ..Layer::default()
    };
    if let Some(s) = &t.port_range {
        l.port_range = Some(parse_port_range(s.get_ref()).map_err(|m| err(s.span().start, &m))?);
    }
    if let Some(s) = &t.verify {
        l.verify = Some(
            s.get_ref()
                .parse()
                .map_err(|m: String| err(s.span().start, &m))?,
        );
    }
    if let Some(s) = &t.proxy {
        crate::ftp::proxy::parse(s.get_ref()).map_err(|e| {
            err(
                s.span().start,
                &format!(
                    "proxy {}: {}",
                    crate::url::mask_raw(s.get_ref()),
                    e.message()
                ),
            )
        })?;
        l.proxy = Some(s.get_ref().clone());
    }
    if let Some(s) = &t.limit_rate {
        let at = s.span().start;
        l.limit_rate = Some(match s.get_ref() {
            Rate::Bytes(n) if *n > 0 => *n as u64,
            Rate::Bytes(n) => return Err(err(at, &format!("limit_rate {n}: must be more than 0"))),
            Rate::Text(t) => crate::ratelimit::parse_rate(t).map_err(|m| err(at, &m))?,
        });
    }
    if let Some(s) = &t.parallel {
        let n = *s.get_ref();
        if !(1..=64).contains(&n) {
            return Err(err(
                s.span().start,
                &format!("parallel {n}: from 1 to 64 connections"),
            ));
        }
        l.parallel = Some(n as usize);
    }
    if let Some(s) = &t.timeout {
        let v = match *s.get_ref() {
            Number::Int(i) => i as f64,
            Number::Float(f) => f,
        };
        l.timeout = Some(parse_timeout(&v.to_string()).map_err(|m| err(s.span().start, &m))?);
    }
    if let Some(s) = &t.pin {
        let texts = match s.get_ref() {
            Pins::One(p) => vec![p.clone()],
            Pins::Many(v) => v.clone(),
        };
        let pins = texts
            .iter()
            .map(|p| parse_pin(p))
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|m| err(s.span().start, &format!("pin: {m}")))?;
        l.pins = Some(pins);
    }
    if let Some(s) = &t.password_command {
        let words = shell_words::split(s.get_ref())
            .map_err(|e| err(s.span().start, &format!("password_command: {e}")))?;
        if words.is_empty() {
            return Err(err(s.span().start, "password_command is empty"));
        }
        l.password_command = Some(words);
    }
    Ok(l)
}

/// `--pin` and `pin`: a SHA-256 fingerprint, with or without colons.
pub fn parse_pin(s: &str) -> std::result::Result<Fingerprint, String> {
    Fingerprint::parse(s).ok_or_else(|| {
        format!("'{s}' is not a SHA-256 fingerprint (64 hex digits, colons optional, as openssl x509 -fingerprint -sha256 prints it)")
    })
}

/// `--timeout` and `timeout`: more than 0, at most a day.
pub fn parse_timeout(s: &str) -> std::result::Result<f64, String> {
    let v: f64 = s
        .parse()
        .map_err(|_| format!("'{s}' is not a number of seconds"))?;
    if v.is_finite() && v > 0.0 && v <= 86_400.0 {
        Ok(v)
    } else {
        Err(format!(
            "'{s}' must be more than 0 and at most 86400 seconds"
        ))
    }
}

/// `--port-range` and `port_range`: `LO-HI`.
pub fn parse_port_range(s: &str) -> std::result::Result<(u16, u16), String> {
    let (lo, hi) = s
        .split_once('-')
        .ok_or_else(|| format!("'{s}' is not LO-HI"))?;
    let lo: u16 = lo
        .trim()
        .parse()
        .map_err(|_| format!("'{lo}' is not a port"))?;
    let hi: u16 = hi
        .trim()
        .parse()
        .map_err(|_| format!("'{hi}' is not a port"))?;
    if lo == 0 || lo > hi {
        return Err(format!("'{s}' is not a range of ports (1-65535, LO <= HI)"));
    }
    Ok((lo, hi))
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[defaults]
timeout = 5
verify = "size"

[sites.work]
url = "ftp://me@ftp.example.org:2121/pub/"
tls = true
limit_rate = "500K"
pin = "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89"
password_command = "pass show 'ftp work'"

[sites.home]
url = "ftp://127.0.0.1/"
parallel = 4
timeout = 2.5
pin = ["abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789", "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"]
"#;

    #[test]
    fn a_good_file() {
        let c = parse(GOOD, "c.toml").unwrap();
        assert_eq!(c.defaults.timeout, Some(5.0));
        assert_eq!(c.defaults.verify, Some(Verify::Size));
        let names: Vec<_> = c.sites.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["home", "work"]);
        let w = c.site("work").unwrap();
        assert_eq!((w.url.port, w.url.path.as_str()), (2121, "/pub/"));
        assert_eq!(w.layer.tls, Some(true));
        assert_eq!(w.layer.limit_rate, Some(500 * 1024));
        assert_eq!(w.layer.pins.as_ref().map(Vec::len), Some(1));
        assert_eq!(
            w.layer.password_command,
            Some(vec!["pass".into(), "show".into(), "ftp work".into()])
        );
        let h = c.site("home").unwrap();
        assert_eq!((h.layer.parallel, h.layer.timeout), (Some(4), Some(2.5)));
        assert_eq!(h.layer.pins.as_ref().unwrap().len(), 2);
    }

    #[test]
    fn the_command_line_over_the_site_over_defaults() {
        let c = parse(GOOD, "c.toml").unwrap();
        let cli = Layer {
            verify: Some(Verify::Hash),
            ..Layer::default()
        };
        let w = cli.over(&c.site("work").unwrap().layer.over(&c.defaults));
        assert_eq!(w.verify, Some(Verify::Hash));
        assert_eq!(w.timeout, Some(5.0));
        assert_eq!(w.tls, Some(true));
        let h = Layer::default().over(&c.site("home").unwrap().layer.over(&c.defaults));
        assert_eq!((h.timeout, h.verify), (Some(2.5), Some(Verify::Size)));
    }

    #[test]
    fn errors_name_the_file_and_line() {
        let cases = [
            ("[defaults]\ntimeout = 5\ntsl = true\n", 3, "unknown field"),
            ("[sites.a]\nurl = \"ftp://h/\"\ntls = \"yes\"\n", 3, ""),
            (
                "[sites.a]\n\nurl = \"ftp://u:secret@h/\"\n",
                3,
                "no password",
            ),
            (
                "[sites.a]\nurl = \"ftp://h/\"\nparallel = 0\n",
                3,
                "from 1 to 64",
            ),
            (
                "[sites.a]\nurl = \"ftp://h/\"\ntimeout = -1\n",
                3,
                "more than 0",
            ),
            (
                "[sites.a]\nurl = \"ftp://h/\"\nport_range = \"9-1\"\n",
                3,
                "range",
            ),
            (
                "[sites.a]\nurl = \"ftp://h/\"\nverify = \"maybe\"\n",
                3,
                "auto, hash",
            ),
            ("[sites.a]\ntls = true\n", 1, "no url"),
            (
                "[sites.a]\nurl = \"ftp://h/\"\npin = \"AB:CD\"\n",
                3,
                "SHA-256",
            ),
            ("[defaults]\nurl = \"ftp://h/\"\n", 2, "[sites.NAME]"),
            (
                "[sites]\n\"a b\" = { url = \"ftp://h/\" }\n",
                2,
                "site name",
            ),
            ("[defaults]\ntimeout = [\n", 2, ""),
        ];
        for (text, line, what) in cases {
            let e = parse(text, "/c/config.toml").unwrap_err().to_string();
            assert!(
                e.starts_with(&format!("config file /c/config.toml, line {line}: ")),
                "{text:?}: {e}"
            );
            assert!(e.contains(what), "{text:?}: {e}");
            assert!(!e.contains('\n'), "{e}");
            assert!(!e.contains("secret"), "{e}");
        }
    }

    #[test]
    fn site_operands() {
        let c = parse(GOOD, "c.toml").unwrap();
        let (s, p) = c.split_operand("work:/x/y").unwrap();
        assert_eq!((s.name.as_str(), p), ("work", "/x/y"));
        assert_eq!(c.split_operand("work:").unwrap().1, "");
        assert!(c.split_operand("./work:x").is_none());
        assert!(c.split_operand("other:x").is_none());
        assert!(c.split_operand("C:\\x").is_none());
        assert!(c.split_operand("work://x").is_none());
        assert!(c.split_operand("work").is_none());
    }

    #[test]
    fn where_the_file_is() {
        let none = |_: &str| None;
        let home = Some(PathBuf::from("/home/u"));
        assert_eq!(
            locate(None, &none, home.clone()),
            Some((PathBuf::from("/home/u/.config/3700ftp/config.toml"), false))
        );
        let xdg = |k: &str| (k == "XDG_CONFIG_HOME").then(|| OsString::from("/x"));
        assert_eq!(
            locate(None, &xdg, home.clone()).unwrap().0,
            PathBuf::from("/x/3700ftp/config.toml")
        );
        let relative = |k: &str| (k == "XDG_CONFIG_HOME").then(|| OsString::from("x"));
        assert!(locate(None, &relative, home.clone())
            .unwrap()
            .0
            .starts_with("/home/u"));
        let env = |k: &str| (k == "FTP3700_CONFIG").then(|| OsString::from("/e.toml"));
        assert_eq!(
            locate(None, &env, None),
            Some((PathBuf::from("/e.toml"), true))
        );
        assert_eq!(
            locate(Some("/c.toml".into()), &env, None),
            Some((PathBuf::from("/c.toml"), true))
        );
    }
}
