//! Everything the user sees that is not the protocol transcript: command output on stdout,
//! errors and notices on stderr, colors as `--color` decides (by default only when the
//! stream is a terminal and `NO_COLOR` is unset). Commands write through an [`Output`]; tests hand it byte buffers.

use std::io::{self, IsTerminal, Write};
use std::sync::{Arc, Mutex};

use colored::Colorize;

use crate::error::Error;
use crate::ftp::list::{Entry, Kind};
use crate::session::transfer::{Bars, Progress};

/// The longest message printed on stderr, in characters: a server's 60 KB error text is
/// cut there (with `…`), so one hostile reply cannot flood the terminal.
const MAX_MESSAGE: usize = 1000;

use crate::text::name as shown_name;
pub use crate::text::printable;

/// A message for stderr: control characters escaped, at most [`MAX_MESSAGE`] characters.
fn message(text: &str) -> String {
    let text = printable(text);
    match text.char_indices().nth(MAX_MESSAGE) {
        Some(_) => {
            let cut = text
                .char_indices()
                .nth(MAX_MESSAGE - 1)
                .map_or(0, |(i, _)| i);
            format!("{}…", &text[..cut])
        }
        None => text.into_owned(),
    }
}

/// How `ls` shows entries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListStyle {
    /// One name per line.
    Names,
    /// The server's long listing lines.
    Long,
    /// One JSON object per line.
    Json,
}

/// `--color`: when errors, notices and directory names are colored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ColorWhen {
    /// On a terminal, unless `NO_COLOR` is set; `CLICOLOR_FORCE` colors even off one.
    #[default]
    Auto,
    /// Always, even into a pipe or file.
    Always,
    /// Never.
    Never,
}

/// Whether a stream is colored: `--color always`/`never` win; otherwise a non-empty
/// `NO_COLOR` turns color off, a `CLICOLOR_FORCE` other than empty or `0` turns it on,
/// and else it is on exactly when the stream is a terminal. (`NO_COLOR` wins over
/// `CLICOLOR_FORCE`: the user who asked for no color is the one to please.)
pub fn use_color(
    when: ColorWhen,
    env: &dyn Fn(&str) -> Option<std::ffi::OsString>,
    is_terminal: bool,
) -> bool {
    let set = |k: &str| env(k).is_some_and(|v| !v.is_empty());
    match when {
        ColorWhen::Always => true,
        ColorWhen::Never => false,
        ColorWhen::Auto if set("NO_COLOR") => false,
        ColorWhen::Auto
            if set("CLICOLOR_FORCE") && env("CLICOLOR_FORCE").as_deref() != Some("0".as_ref()) =>
        {
            true
        }
        ColorWhen::Auto => is_terminal,
    }
}

/// The program's two output streams.
pub struct Output {
    out: Box<dyn Write>,
    err: Box<dyn Write>,
    color: bool,
    color_out: bool,
    out_terminal: bool,
    /// `--json`: stdout carries only JSON Lines; other output lines go to stderr.
    json: bool,
}

/// A writer into a shared byte buffer (tests read it back).
#[derive(Clone, Default)]
pub struct SharedBuf(pub Arc<Mutex<Vec<u8>>>);

impl SharedBuf {
    /// The bytes written so far, as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().expect("buffer lock")).into_owned()
    }
}

impl Write for SharedBuf {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().expect("buffer lock").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Output {
    /// stdout and stderr, colored as `--color auto` decides (see [`use_color`]).
    pub fn terminal() -> Output {
        Output::terminal_with(ColorWhen::Auto)
    }

    /// stdout and stderr; whether each is colored is decided here, once, by [`use_color`]
    /// from `when`, the environment and whether the stream is a terminal.
    pub fn terminal_with(when: ColorWhen) -> Output {
        let env = |k: &str| std::env::var_os(k);
        let color = use_color(when, &env, io::stderr().is_terminal());
        let color_out = use_color(when, &env, io::stdout().is_terminal());
        if color || color_out {
            // `colored` would decide again from its own view of the environment (stdout's
            // terminal, CLICOLOR): the decision made here is the one that counts, and an
            // Output that decided against color never asks `colored` for any.
            colored::control::set_override(true);
        }
        Output {
            out: Box::new(io::stdout()),
            err: Box::new(io::stderr()),
            color,
            color_out,
            out_terminal: io::stdout().is_terminal(),
            json: false,
        }
    }

    /// Output into two buffers, without colors.
    pub fn buffers(out: SharedBuf, err: SharedBuf) -> Output {
        Output {
            out: Box::new(out),
            err: Box::new(err),
            color: false,
            color_out: false,
            out_terminal: false,
            json: false,
        }
    }

    /// True when stdout is a terminal (raw file bytes must be escaped there).
    pub fn out_is_terminal(&self) -> bool {
        self.out_terminal
    }

    /// The stdout writer, for listings and command results.
    pub fn out(&mut self) -> &mut dyn Write {
        &mut self.out
    }

    /// Turns `--json` on or off: with it, stdout carries only JSON objects ([`Output::json`])
    /// and the lines commands print for people go to stderr.
    pub fn set_json(&mut self, on: bool) {
        self.json = on;
    }

    /// True under `--json`.
    pub fn is_json(&self) -> bool {
        self.json
    }

    /// Prints one JSON object (a `--json` record) as one line on stdout.
    pub fn json(&mut self, object: &str) {
        let _ = writeln!(self.out, "{object}");
        let _ = self.out.flush();
    }

    /// Prints one line of command output on stdout (stderr under `--json`).
    pub fn line(&mut self, text: &str) {
        if self.json {
            let _ = writeln!(self.err, "{}", printable(text));
            return;
        }
        let _ = writeln!(self.out, "{}", printable(text));
        let _ = self.out.flush();
    }

    /// Prints listing entries: names, the server's long lines, or JSON objects.
    /// Directories are colored when stdout is a terminal.
    pub fn entries(&mut self, entries: &[Entry], style: ListStyle) {
        for e in entries {
            let text = match style {
                ListStyle::Json => crate::session::listing::to_json(e),
                ListStyle::Names => self.paint_dir(e, &shown_name(&e.name)),
                ListStyle::Long => match e.raw.strip_suffix(e.name.as_str()) {
                    Some(head) if e.kind == Kind::Dir => {
                        format!(
                            "{}{}",
                            shown_name(head),
                            self.paint_dir(e, &shown_name(&e.name))
                        )
                    }
                    _ => shown_name(&e.raw).into_owned(),
                },
            };
            if writeln!(self.out, "{text}").is_err() {
                break;
            }
        }
        let _ = self.out.flush();
    }

    fn paint_dir(&self, e: &Entry, text: &str) -> String {
        if self.color_out && e.kind == Kind::Dir {
            text.blue().bold().to_string()
        } else {
            text.to_string()
        }
    }

    /// Prints a plain status line on stderr (a summary of work done), never colored: a
    /// success should not look like a warning.
    pub fn status(&mut self, text: &str) {
        let _ = self.out.flush();
        let _ = writeln!(self.err, "3700ftp: {}", message(text));
    }

    /// Prints a notice on stderr (e.g. "reconnected").
    pub fn notice(&mut self, text: &str) {
        let _ = self.out.flush();
        let text = message(text);
        let shown = if self.color {
            text.yellow().to_string()
        } else {
            text
        };
        let _ = writeln!(self.err, "3700ftp: {shown}");
    }

    /// Prints an error on stderr as one line, red on a terminal.
    pub fn error(&mut self, err: &Error) {
        let _ = self.out.flush();
        let text = message(&format!("3700ftp: {err}{}", hint(err.hint())));

        let shown = if self.color {
            text.red().to_string()
        } else {
            text
        };
        let _ = writeln!(self.err, "{shown}");
    }
}

/// The words of a suggestion the protocol layer attached, naming the flag that helps.
fn hint(hint: Option<crate::error::Hint>) -> String {
    use crate::error::Hint;
    let text = match hint {
        None => "",
        Some(Hint::TryActive) => " (a firewall may block the server's passive ports; try --active)",
        Some(Hint::UntrustedCertificate(Some(fp))) => {
            return format!(
                "; its fingerprint is {}; if it is the server's, trust it with --pin {0} (or --cacert FILE for a private CA)",
                crate::fingerprint::Fingerprint(fp)
            )
        }
        Some(Hint::UntrustedCertificate(None)) => {
            "; use --cacert FILE to trust a private CA, or --insecure to skip verification"
        }
        Some(Hint::NotPinned(fp)) => {
            return format!(
                " (--pin trusts only the pinned certificates; if the server's certificate was replaced on purpose, check it and add --pin {})",
                crate::fingerprint::Fingerprint(fp)
            )
        }
        Some(Hint::CertificateChanged) => "",
        Some(Hint::NotImplicitTls) => " (the server does not speak TLS on this port: ftps:// means TLS from the first byte, usually on port 990; for AUTH TLS use ftp:// with --tls)",
        Some(Hint::ActiveBlocked) => " (a firewall may block it; passive mode is the default)",
    };
    text.to_string()
}

/// The width of the terminal stdout (`stderr == false`) or stderr writes to, in columns;
/// None when it is not a terminal.
pub fn terminal_width(stderr: bool) -> Option<usize> {
    let size = if stderr {
        terminal_size::terminal_size_of(io::stderr())
    } else {
        terminal_size::terminal_size_of(io::stdout())
    };
    size.map(|(w, _)| w.0 as usize).filter(|w| *w > 0)
}

/// Below this many columns a bar line drops the bar itself: a line that wraps makes
/// indicatif miscount what it drew, and the lines it fails to clear stay on the screen.
const NARROW: usize = 74;

/// Columns a bar line leaves free at its end: the terminal echoes `^C` after the last
/// character drawn, and on a full line that echo would wrap onto a line indicatif does not
/// know about (the bars would then stay on the screen after Ctrl-C).
const SPARE: usize = 4;

/// The width of the bar itself, so a line is at most `width - SPARE` columns: the name
/// (24), the bar, bytes, rate and ETA (40 in all).
fn bar_width(width: usize) -> usize {
    width.saturating_sub(24 + 1 + 1 + 38 + SPARE).max(5)
}

/// The template of a per-file line that fits `width` columns.
fn file_template(known_total: bool, width: usize) -> String {
    match (known_total, width >= NARROW) {
        (true, true) => format!(
            "{{msg:24!}} {{bar:{}}} {{bytes:>10}}/{{total_bytes:<10}} {{binary_bytes_per_sec:>12}} {{eta:>3}}",
            bar_width(width)
        ),
        (true, false) => "{msg:16!} {bytes:>10}/{total_bytes:<10} {binary_bytes_per_sec:>12}".into(),
        (false, true) => "{msg:24!} {spinner} {bytes:>10} {binary_bytes_per_sec:>12}".into(),
        (false, false) => "{msg:16!} {bytes:>10} {binary_bytes_per_sec:>12}".into(),
    }
}

/// The template of the overall line of a multi-file run (its bar under the files' bars).
fn overall_template(width: usize) -> String {
    if width >= NARROW {
        format!(
            "{{msg:24!}} {{bar:{}}} {{pos}}/{{len}} files, {{elapsed}}",
            bar_width(width)
        )
    } else {
        "{msg:16!} {pos}/{len} files, {elapsed}".into()
    }
}

/// A progress bar on stderr (indicatif): name, bytes, rate and ETA. Drawn only when the
/// caller decided stderr is a terminal and bars are wanted; otherwise it does nothing.
pub struct Bar {
    bar: Option<indicatif::ProgressBar>,
    enabled: bool,
    multi: Option<indicatif::MultiProgress>,
    overall: Option<indicatif::ProgressBar>,
    echo: EchoFix,
}

/// Ctrl-C at a terminal echoes `^C` where the cursor is, and indicatif leaves the cursor
/// at the right edge of its last line (it pads lines to the full width): the echo wraps,
/// the cursor ends one line lower than indicatif counts, and its clearing then leaves
/// the bars on the screen. Once, when the cancel flag is first seen set, the cursor goes
/// back up that line, before indicatif draws again.
#[derive(Clone, Default)]
struct EchoFix {
    cancel: Option<Arc<std::sync::atomic::AtomicBool>>,
    done: Arc<std::sync::atomic::AtomicBool>,
}

impl EchoFix {
    fn check(&self) {
        use std::sync::atomic::Ordering::SeqCst;
        let Some(cancel) = &self.cancel else { return };
        if cancel.load(SeqCst) && !self.done.swap(true, SeqCst) && echoes_ctrl_c() {
            let _ = write!(io::stderr(), "\x1b[1A");
        }
    }
}

/// Whether the terminal on stderr echoes control characters (`^C`): ECHO and ECHOCTL.
#[cfg(target_os = "linux")]
fn echoes_ctrl_c() -> bool {
    use nix::sys::termios::{tcgetattr, LocalFlags};
    tcgetattr(io::stderr()).is_ok_and(|t| {
        t.local_flags
            .contains(LocalFlags::ECHO | LocalFlags::ECHOCTL)
    })
}

/// Elsewhere the terminal's default is assumed (ECHOCTL on).
#[cfg(not(target_os = "linux"))]
fn echoes_ctrl_c() -> bool {
    io::stderr().is_terminal()
}

impl Bar {
    /// A bar that draws when `enabled`.
    pub fn new(enabled: bool) -> Bar {
        Bar {
            bar: None,
            enabled,
            multi: None,
            overall: None,
            echo: EchoFix::default(),
        }
    }

    /// Follows the cancel flag, to undo the terminal's `^C` echo (see [`EchoFix`]).
    pub fn watching(mut self, cancel: Arc<std::sync::atomic::AtomicBool>) -> Bar {
        self.echo.cancel = Some(cancel);
        self
    }

    /// Bars for a multi-file operation: one line per file under an overall line counting
    /// files. Clones of the returned bar (see [`Bar::for_file`]) may draw from other threads.
    pub fn many(enabled: bool, files: u64) -> Bar {
        if !enabled {
            return Bar::new(false);
        }
        let multi =
            indicatif::MultiProgress::with_draw_target(indicatif::ProgressDrawTarget::stderr());
        let overall = multi.add(indicatif::ProgressBar::new(files));
        let width = terminal_width(true).unwrap_or(80);
        if let Ok(style) = indicatif::ProgressStyle::with_template(&overall_template(width)) {
            overall.set_style(style.progress_chars("=> "));
        }
        overall.set_message("total");
        Bar {
            bar: None,
            enabled,
            multi: Some(multi),
            overall: Some(overall),
            echo: EchoFix::default(),
        }
    }

    /// A per-file bar drawn under the same overall line.
    pub fn for_file(&self) -> Bar {
        Bar {
            bar: None,
            enabled: self.enabled,
            multi: self.multi.clone(),
            overall: self.overall.clone(),
            echo: self.echo.clone(),
        }
    }

    /// Removes the overall line.
    pub fn finish_all(&mut self) {
        self.echo.check();
        if let Some(o) = self.overall.take() {
            o.finish_and_clear();
        }
    }
}

impl Bars for Bar {
    fn for_file(&self) -> Box<dyn Progress + Send> {
        Box::new(Bar::for_file(self))
    }
}

impl Progress for Bar {
    fn begin(&mut self, name: &str, total: Option<u64>, done: u64) {
        if !self.enabled {
            return;
        }
        // Hidden while it is set up: a bar that drew on its own before joining the
        // multi-file display would leave a line the display does not know to clear.
        let hidden = indicatif::ProgressDrawTarget::hidden();
        let bar = match total {
            Some(t) => indicatif::ProgressBar::with_draw_target(Some(t), hidden),
            None => indicatif::ProgressBar::with_draw_target(None, hidden),
        };
        let width = terminal_width(true).unwrap_or(80);
        let template = file_template(total.is_some(), width);
        let template = template.as_str();
        if let Ok(style) = indicatif::ProgressStyle::with_template(template) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_message(name.to_string());
        bar.set_position(done);
        bar.reset_eta();
        let bar = match &self.multi {
            Some(m) => m.add(bar),
            None => {
                bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
                bar
            }
        };
        self.bar = Some(bar);
    }

    fn advance(&mut self, bytes: u64) {
        if let Some(b) = &self.bar {
            self.echo.check();
            b.inc(bytes);
        }
    }

    fn end(&mut self) {
        if let Some(b) = self.bar.take() {
            self.echo.check();
            b.finish_and_clear();
            if let Some(m) = &self.multi {
                m.remove(&b);
            }
            if let Some(o) = &self.overall {
                o.inc(1);
            }
        }
    }
}

#[cfg(test)]
mod text_tests {
    use super::*;

    #[test]
    fn long_messages_are_cut() {
        let long = "é".repeat(MAX_MESSAGE + 10);
        let shown = message(&long);
        assert_eq!(shown.chars().count(), MAX_MESSAGE);
        assert!(shown.ends_with('…'));
        assert_eq!(message("short"), "short");
    }

    #[test]
    fn listings_and_errors_are_printable() {
        let (out, err) = (SharedBuf::default(), SharedBuf::default());
        let mut o = Output::buffers(out.clone(), err.clone());
        let e =
            crate::ftp::list::parse_list_line("-rw-r--r-- 1 u g 5 Jan 31 2024 a\x1b[2Jb").unwrap();
        o.entries(std::slice::from_ref(&e), ListStyle::Names);
        o.entries(std::slice::from_ref(&e), ListStyle::Long);
        o.error(&Error::refused(550, "No\x1b[31m such"));
        assert_eq!(
            out.text(),
            "a?[2Jb\n-rw-r--r-- 1 u g 5 Jan 31 2024 a?[2Jb\n"
        );
        assert!(!err.text().contains('\x1b'), "{}", err.text());
    }

    #[test]
    fn color_is_decided_by_the_flag_then_the_environment_then_the_terminal() {
        use super::{use_color, ColorWhen};
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| std::ffi::OsString::from(v))
            }
        };
        let none = env(&[]);
        assert!(use_color(ColorWhen::Auto, &none, true));
        assert!(!use_color(ColorWhen::Auto, &none, false));
        assert!(use_color(ColorWhen::Always, &none, false));
        assert!(!use_color(ColorWhen::Never, &none, true));
        let no_color = env(&[("NO_COLOR", "1")]);
        assert!(!use_color(ColorWhen::Auto, &no_color, true));
        assert!(use_color(ColorWhen::Always, &no_color, false));
        let empty = env(&[("NO_COLOR", "")]);
        assert!(use_color(ColorWhen::Auto, &empty, true));
        let force = env(&[("CLICOLOR_FORCE", "1")]);
        assert!(use_color(ColorWhen::Auto, &force, false));
        assert!(!use_color(ColorWhen::Never, &force, true));
        let zero = env(&[("CLICOLOR_FORCE", "0")]);
        assert!(!use_color(ColorWhen::Auto, &zero, false));
        let both = env(&[("NO_COLOR", "1"), ("CLICOLOR_FORCE", "1")]);
        assert!(!use_color(ColorWhen::Auto, &both, true));
    }
}

#[cfg(test)]
mod bar_tests {
    use super::*;

    #[test]
    fn a_bar_line_leaves_room_for_the_ctrl_c_echo() {
        for width in [NARROW, 80, 120, 200] {
            // name, space, bar, space, then bytes/total, rate and ETA.
            let line = 24 + 1 + bar_width(width) + 1 + 38;
            assert!(line + SPARE <= width, "{width}: {line}");
            assert!(file_template(true, width).contains(&format!("{{bar:{}}}", bar_width(width))));
        }
        assert!(!file_template(true, 60).contains("{bar"));
        assert!(!overall_template(60).contains("{bar"));
    }
}
