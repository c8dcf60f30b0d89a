//! The interactive prompt: the only module that uses rustyline.
//!
//! [`run_loop`] is generic over a [`LineSource`], so the prompt's logic (errors carry on,
//! Ctrl-C cancels the line, Ctrl-D leaves, passwords stay out of history) is tested with a
//! list of lines; [`run`] plugs in rustyline with history and tab completion.

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::PathBuf;
use std::rc::Rc;

use rustyline::completion::Completer;
use rustyline::highlight::Highlighter;
use rustyline::hint::Hinter;
use rustyline::history::DefaultHistory;
use rustyline::validate::Validator;
use rustyline::{CompletionType, Config, Context, Editor, Helper};

use super::complete::{complete, Names};
use super::{execute_line, words};
use crate::ctx::Ctx;
use crate::error::{Error, Result};
use crate::url::{looks_like_url, FtpUrl};

/// One thing the user did at the prompt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// A line was entered.
    Line(String),
    /// Ctrl-C while typing: drop the line, keep going.
    Interrupted,
    /// Ctrl-D: leave.
    Eof,
}

/// Where prompt lines come from.
pub trait LineSource {
    /// Shows `prompt` and reads one line.
    fn read(&mut self, prompt: &str) -> Input;
    /// Remembers a line in history.
    fn remember(&mut self, _line: &str) {}
}

/// True when a line carries a password (a URL with `user:password@`): never kept in history.
pub fn carries_password(line: &str) -> bool {
    let ws = words(line).unwrap_or_else(|_| line.split_whitespace().map(String::from).collect());
    // `user NAME PASSWORD` (and its alias) carries one too.
    if ws.len() > 2 && crate::commands::lookup(&ws[0]).is_some_and(|s| s.name == "user") {
        return true;
    }
    ws.iter().any(|w| {
        looks_like_url(w)
            && FtpUrl::parse(w).map_or_else(|_| w.contains('@'), |u| u.password.is_some())
    })
}

/// The prompt loop, until the user leaves. A command's error is printed and the prompt
/// goes on, so leaving is always `Ok`.
pub fn run_loop(
    ctx: &RefCell<Ctx>,
    source: &mut dyn LineSource,
    on_command: &mut dyn FnMut(),
) -> Result<()> {
    loop {
        // The directory comes from the server's PWD reply: escaped like any server text.
        let prompt = format!("{}> ", crate::text::printable(&ctx.borrow().location()));
        match source.read(&prompt) {
            Input::Eof => break,
            Input::Interrupted => continue,
            // A paste of several lines arrives as one (bracketed paste): each runs in turn.
            Input::Line(text) => {
                for line in text.split(['\n', '\r']) {
                    if run_one_line(ctx, source, on_command, line) {
                        ctx.borrow_mut().close();
                        return Ok(());
                    }
                    // Ctrl-C during one pasted line stops the rest of the paste too.
                    let cancelled = ctx
                        .borrow()
                        .opts
                        .cancel
                        .load(std::sync::atomic::Ordering::SeqCst);
                    if cancelled {
                        break;
                    }
                }
            }
        }
    }
    ctx.borrow_mut().close();
    Ok(())
}

/// Runs one line typed (or pasted); true when it asked to quit.
fn run_one_line(
    ctx: &RefCell<Ctx>,
    source: &mut dyn LineSource,
    on_command: &mut dyn FnMut(),
    line: &str,
) -> bool {
    if line.trim().is_empty() {
        return false;
    }
    if !carries_password(line) {
        source.remember(line);
    }
    let mut c = ctx.borrow_mut();
    // A Ctrl-C at the prompt (or during the previous command) must not cancel this one.
    c.opts
        .cancel
        .store(false, std::sync::atomic::Ordering::SeqCst);
    if let Err(e) = execute_line(&mut c, line) {
        c.out.error(&e);
    }
    let quit = c.quit;
    drop(c);
    on_command();
    quit
}

/// Cached remote directory listings, by directory as typed.
type ListingCache = Rc<RefCell<HashMap<String, Vec<(String, bool)>>>>;

/// Tab completion for the prompt, with a cache of remote directory listings.
struct PromptHelper {
    ctx: Rc<RefCell<Ctx>>,
    cache: ListingCache,
    /// Servers named in history (`user@host:port`), for URL completion.
    history_servers: Vec<String>,
    /// Whether hints are drawn (stdout is a terminal).
    hints: bool,
}

/// How a server is written in a completed URL: `user@host:port` (no password; the user
/// only when one was named).
fn server_of(url: &FtpUrl) -> String {
    if url.user_given {
        format!("{}@{}", url.user, url.authority())
    } else {
        url.authority()
    }
}

/// The servers of the `ftp://` URLs in history lines, most recent first, each once.
fn servers_in(lines: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for line in lines.iter().rev() {
        for w in line.split_whitespace() {
            if let Ok(url) = FtpUrl::parse(w) {
                let s = server_of(&url);
                if !out.contains(&s) {
                    out.push(s);
                }
            }
        }
    }
    out
}

struct LiveNames<'a> {
    helper: &'a PromptHelper,
}

impl Names for LiveNames<'_> {
    fn remote(&mut self, dir: &str) -> Vec<(String, bool)> {
        if let Some(hit) = self.helper.cache.borrow().get(dir) {
            return hit.clone();
        }
        let Ok(mut ctx) = self.helper.ctx.try_borrow_mut() else {
            return Vec::new();
        };
        let entries = ctx.completion_names(dir);
        // A failed listing is tried again at the next Tab.
        if !entries.is_empty() {
            self.helper
                .cache
                .borrow_mut()
                .insert(dir.to_string(), entries.clone());
        }
        entries
    }

    fn sites(&mut self) -> Vec<String> {
        match self.helper.ctx.try_borrow() {
            Ok(ctx) => ctx.sites.iter().map(|s| s.name.clone()).collect(),
            Err(_) => Vec::new(),
        }
    }

    fn servers(&mut self) -> Vec<String> {
        let mut out = Vec::new();
        if let Ok(ctx) = self.helper.ctx.try_borrow() {
            if let Some(s) = &ctx.session {
                out.push(server_of(&s.url));
            }
        }
        for s in &self.helper.history_servers {
            if !out.contains(s) {
                out.push(s.clone());
            }
        }
        out
    }

    fn local(&mut self, dir: &str) -> Vec<(String, bool)> {
        let base = match self.helper.ctx.try_borrow() {
            Ok(ctx) => ctx.local(if dir.is_empty() { "." } else { dir }),
            Err(_) => return Vec::new(),
        };
        let Ok(rd) = std::fs::read_dir(base) else {
            return Vec::new();
        };
        rd.filter_map(|e| e.ok())
            .map(|e| {
                let is_dir = e.path().is_dir();
                (e.file_name().to_string_lossy().into_owned(), is_dir)
            })
            .collect()
    }
}

impl Completer for PromptHelper {
    type Candidate = String;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<String>)> {
        let mut names = LiveNames { helper: self };
        Ok(complete(line, pos, &mut names))
    }
}

impl Hinter for PromptHelper {
    type Hint = String;

    /// The usage line of the command being typed, from the table, once its name is
    /// complete and the cursor is at the end of the line.
    fn hint(&self, line: &str, pos: usize, _ctx: &Context<'_>) -> Option<String> {
        if !self.hints || pos < line.len() {
            return None;
        }
        super::complete::usage_hint(line)
    }
}

impl Highlighter for PromptHelper {
    /// Hints are dimmed.
    fn highlight_hint<'h>(&self, hint: &'h str) -> std::borrow::Cow<'h, str> {
        std::borrow::Cow::Owned(format!("\x1b[2m{hint}\x1b[0m"))
    }
}
impl Validator for PromptHelper {}
impl Helper for PromptHelper {}

struct RustylineSource {
    editor: Editor<PromptHelper, DefaultHistory>,
    history: Option<PathBuf>,
}

impl LineSource for RustylineSource {
    fn read(&mut self, prompt: &str) -> Input {
        match self.editor.readline(prompt) {
            Ok(line) => Input::Line(line),
            Err(rustyline::error::ReadlineError::Interrupted) => Input::Interrupted,
            Err(_) => Input::Eof,
        }
    }

    fn remember(&mut self, line: &str) {
        let _ = self.editor.add_history_entry(line);
        if let Some(path) = &self.history {
            let _ = self.editor.save_history(path);
        }
    }
}

/// Where history lives: `$XDG_DATA_HOME/3700ftp/history` (or the platform's data directory).
fn history_path() -> Option<PathBuf> {
    let dir = dirs::data_dir()?.join("3700ftp");
    std::fs::create_dir_all(&dir).ok()?;
    Some(dir.join("history"))
}

/// Runs the interactive prompt until quit or Ctrl-D. `after_editor` runs once the line
/// editor exists (it installs the Ctrl-C handler, which rustyline would otherwise replace).
pub fn run(ctx: Ctx, after_editor: &dyn Fn()) -> Result<()> {
    let ctx = Rc::new(RefCell::new(ctx));
    let cache = Rc::new(RefCell::new(HashMap::new()));
    let history = history_path();
    let history_lines: Vec<String> = history
        .as_ref()
        .and_then(|p| std::fs::read_to_string(p).ok())
        .map(|t| t.lines().map(String::from).collect())
        .unwrap_or_default();
    let helper = PromptHelper {
        ctx: ctx.clone(),
        cache: cache.clone(),
        history_servers: servers_in(&history_lines),
        hints: std::io::IsTerminal::is_terminal(&std::io::stdout()),
    };
    // Tab completes as a shell does: the common prefix, then (Tab again) the list of
    // candidates, rather than cycling through them in place.
    let config = Config::builder()
        .completion_type(CompletionType::List)
        .build();
    let mut editor = Editor::<PromptHelper, DefaultHistory>::with_config(config).map_err(|e| {
        Error::new(
            crate::error::Kind::Local,
            format!("cannot start the prompt: {e}"),
        )
    })?;
    editor.set_helper(Some(helper));
    after_editor();
    if let Some(path) = &history {
        let _ = editor.load_history(path);
    }
    let mut source = RustylineSource { editor, history };
    // Any command may change what a directory holds: forget cached listings after each.
    let mut on_command = || cache.borrow_mut().clear();
    run_loop(&ctx, &mut source, &mut on_command)
}
