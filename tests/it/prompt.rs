//! The interactive prompt, driven through a real pseudo-terminal (expectrl), and the prompt
//! loop driven by a list of lines (no terminal).

use crate::common;
use crate::fake_server;

use std::cell::RefCell;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use common::pty::Pty;
use common::{TestServer, PASSWORD};
use ftp3700::ctx::Ctx;
use ftp3700::frontend::repl::{run_loop, Input, LineSource};
use ftp3700::ftp::connection::Options;
use ftp3700::output::{Output, SharedBuf};

fn spawn(home: &std::path::Path, url: &str) -> Pty {
    let mut cmd = common::command(home);
    cmd.arg(url);
    Pty::spawn(cmd)
}

#[test]
fn pty_prompt_lists_completes_shows_protocol_and_exits_on_ctrl_d() {
    let s = TestServer::start();
    s.put("/alpha-report.txt", b"alpha");
    let home = tempfile::tempdir().unwrap();
    let prompt = "alice@127.0.0.1:/> ";
    let mut p = spawn(home.path(), &s.url("/"));
    p.expect(prompt);
    let listed = p.run("ls", prompt);
    assert!(listed.contains("alpha-report.txt"), "{listed}");
    // Tab completes the remote name from a listing of the working directory.
    p.send("get alp");
    p.send("\t");
    p.expect("alpha-report.txt");
    p.enter();
    p.expect("alpha-report.txt: 5 B in ");
    p.expect(prompt);
    assert_eq!(
        std::fs::read(home.path().join("alpha-report.txt")).unwrap(),
        b"alpha"
    );
    p.line("verbose on");
    p.expect("verbose on");
    p.expect(prompt);
    p.line("mkdir made-here");
    p.expect("> MKD made-here");
    p.expect("< 257");
    p.expect(prompt);
    // Ctrl-C cancels the line being typed and keeps the program.
    p.send("rm alpha");
    p.ctrl_c();
    p.expect("\r\n");
    p.expect(prompt);
    p.line("rm nonexistent");
    p.expect("3700ftp: rm nonexistent: server said 550");
    p.expect(prompt);
    let status = p.ctrl_d_and_exit();
    assert!(
        status.contains("Exited(") && status.ends_with(", 0)"),
        "{status}"
    );
    assert!(s.file("/made-here").is_dir());
    assert!(
        s.file("/alpha-report.txt").exists(),
        "the cancelled line did not run"
    );
    let history = std::fs::read_to_string(home.path().join("data/3700ftp/history")).unwrap();
    assert!(history.contains("mkdir made-here"));
    assert!(!history.contains(PASSWORD));
}

/// A server whose download sends a little data and then stalls, until ABOR.
fn stalling_server() -> (
    u16,
    std::thread::JoinHandle<Vec<String>>,
    std::sync::mpsc::Receiver<()>,
) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let (sent_tx, sent_rx) = std::sync::mpsc::channel();
    let handle = std::thread::spawn(move || {
        let (control, _) = listener.accept().unwrap();
        control
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        let mut out = control.try_clone().unwrap();
        let mut lines = BufReader::new(control);
        let mut seen = Vec::new();
        let mut data_listener: Option<TcpListener> = None;
        let mut data: Option<TcpStream> = None;
        out.write_all(b"220 stall server\r\n").unwrap();
        loop {
            let mut line = String::new();
            if lines.read_line(&mut line).unwrap_or(0) == 0 {
                break;
            }
            let line = line.trim_end().to_string();
            seen.push(line.clone());
            let verb = line.split(' ').next().unwrap_or("").to_ascii_uppercase();
            let reply: String = match verb.as_str() {
                "USER" => "230 in\r\n".into(),
                "PWD" => "257 \"/\"\r\n".into(),
                "TYPE" | "MODE" | "STRU" => "200 ok\r\n".into(),
                "SIZE" => "213 100000000\r\n".into(),
                "EPSV" => {
                    let l = TcpListener::bind("127.0.0.1:0").unwrap();
                    let p = l.local_addr().unwrap().port();
                    data_listener = Some(l);
                    format!("229 Entering Extended Passive Mode (|||{p}|)\r\n")
                }
                "RETR" => {
                    let (mut d, _) = data_listener.take().unwrap().accept().unwrap();
                    out.write_all(b"150 here it comes\r\n").unwrap();
                    d.write_all(&[7u8; 4096]).unwrap();
                    data = Some(d);
                    let _ = sent_tx.send(());
                    continue;
                }
                "ABOR" => {
                    data = None;
                    "426 aborted\r\n226 abort done\r\n".into()
                }
                "QUIT" => {
                    let _ = out.write_all(b"221 bye\r\n");
                    break;
                }
                _ => "502 no\r\n".into(),
            };
            out.write_all(reply.as_bytes()).unwrap();
        }
        drop(data);
        seen
    });
    (port, handle, sent_rx)
}

#[test]
fn pty_ctrl_c_interrupts_a_transfer_and_the_session_goes_on() {
    let (port, server, data_sent) = stalling_server();
    let home = tempfile::tempdir().unwrap();
    let mut p = spawn(home.path(), &format!("ftp://127.0.0.1:{port}/"));
    let prompt = "anonymous@127.0.0.1:/> ";
    p.expect(prompt);
    p.line("get big.iso");
    // Interrupt only once the transfer is under way (the terminal is back in cooked mode).
    data_sent
        .recv_timeout(common::pty::WAIT)
        .expect("the download started");
    std::thread::sleep(Duration::from_millis(500));
    p.ctrl_c();
    p.expect("interrupted");
    p.expect("get -c would have kept the part received");
    p.expect(prompt);
    p.line("pwd");
    p.expect("/\r\n");
    p.expect(prompt);
    let status = p.ctrl_d_and_exit();
    assert!(status.ends_with(", 0)"), "{status}");
    let seen = server.join().unwrap();
    assert!(seen.iter().any(|l| l == "ABOR"), "{seen:?}");
    assert!(seen.iter().any(|l| l == "PWD"), "{seen:?}");
    let left: Vec<String> = common::names(home.path())
        .into_iter()
        .filter(|n| n != "data")
        .collect();
    assert_eq!(left, Vec::<String>::new(), "no partial file");
}

struct Lines {
    lines: Vec<Input>,
    remembered: Vec<String>,
    prompts: Vec<String>,
}

impl LineSource for Lines {
    fn read(&mut self, prompt: &str) -> Input {
        self.prompts.push(prompt.to_string());
        if self.lines.is_empty() {
            Input::Eof
        } else {
            self.lines.remove(0)
        }
    }
    fn remember(&mut self, line: &str) {
        self.remembered.push(line.to_string());
    }
}

#[test]
fn prompt_loop_carries_on_after_errors_and_keeps_passwords_out_of_history() {
    let s = TestServer::start();
    let (out, err) = (SharedBuf::default(), SharedBuf::default());
    let mut ctx = Ctx::new(
        Options::default(),
        false,
        Output::buffers(out.clone(), err.clone()),
    );
    ctx.in_session = true;
    let open = format!("open {}", s.url("/"));
    let mut source = Lines {
        lines: vec![
            Input::Line("pwd".into()),
            Input::Line(open),
            Input::Interrupted,
            Input::Line("rm missing".into()),
            Input::Line("mkdir after-error".into()),
            Input::Line("pwd".into()),
        ],
        remembered: Vec::new(),
        prompts: Vec::new(),
    };
    let ctx = RefCell::new(ctx);
    assert!(run_loop(&ctx, &mut source, &mut || {}).is_ok());
    assert!(s.file("/after-error").is_dir());
    assert_eq!(out.text(), "/\n");
    let errors = err.text();
    assert!(errors.contains("3700ftp: pwd: not connected"), "{errors}");
    assert!(
        errors.contains("3700ftp: rm missing: server said 550"),
        "{errors}"
    );
    assert_eq!(
        source.remembered,
        ["pwd", "rm missing", "mkdir after-error", "pwd"]
    );
}

#[test]
fn the_prompt_shows_a_directory_from_the_server_escaped() {
    let s = TestServer::start();
    let evil = "x\x1b]0;owned\x07\u{202e}y";
    std::fs::create_dir(s.file(&format!("/{evil}"))).unwrap();
    let (out, err) = (SharedBuf::default(), SharedBuf::default());
    let mut ctx = Ctx::new(
        Options::default(),
        false,
        Output::buffers(out.clone(), err.clone()),
    );
    ctx.in_session = true;
    ctx.open(ftp3700::url::FtpUrl::parse(&s.url("/")).unwrap(), false)
        .unwrap();
    let mut source = Lines {
        lines: vec![Input::Line(format!("cd '{evil}'"))],
        remembered: Vec::new(),
        prompts: Vec::new(),
    };
    let ctx = RefCell::new(ctx);
    run_loop(&ctx, &mut source, &mut || {}).unwrap();
    assert_eq!(err.text(), "");
    let last = source.prompts.last().unwrap();
    assert_eq!(
        last, "alice@127.0.0.1:/x\\u{1b}]0;owned\\u{7}\\u{202e}y> ",
        "{:?}",
        source.prompts
    );
}

#[test]
fn completion_lists_with_mlsd_like_ls_and_quietly() {
    // A server whose MLSD works and whose LIST is not in the script: completion must take
    // the listing `ls --json` and tree walks use, not a LIST of its own.
    let mlsd = "type=file;size=4;modify=20240101000000; report.txt\r\n\
                type=dir;modify=20240101000000; reports\r\n\
                type=file;size=1;modify=20240101000000; other.bin\r\n";
    let server = fake_server::FakeServer::new()
        .login()
        .reply("MLSD", "150 Here comes the listing\r\n")
        .data_send(mlsd)
        .send("226 Done\r\n")
        .start();
    let (out, err) = (SharedBuf::default(), SharedBuf::default());
    let mut ctx = Ctx::new(
        Options::default(),
        true,
        Output::buffers(out.clone(), err.clone()),
    );
    ctx.in_session = true;
    let transcript = SharedBuf::default();
    ctx.transcript_sink = Some(ftp3700::transcript::Transcript::buffer(
        transcript.0.clone(),
    ));
    ctx.open(
        ftp3700::url::FtpUrl::parse(&server.url("/")).unwrap(),
        false,
    )
    .unwrap();
    let names = ctx.completion_names("");
    ctx.close();
    let t = server.finish();
    assert_eq!(
        names,
        [
            ("report.txt".to_string(), false),
            ("reports".to_string(), true),
            ("other.bin".to_string(), false)
        ],
        "{t:?}"
    );
    assert!(!t.sent("LIST"), "{t:?}");
    let shown = transcript.text();
    assert!(shown.contains("> PWD"), "-v is on: {shown}");
    assert!(
        !shown.contains("MLSD"),
        "-v does not show the listing: {shown}"
    );
}

#[test]
fn a_pasted_block_of_lines_runs_each_line() {
    let s = TestServer::start();
    let (out, err) = (SharedBuf::default(), SharedBuf::default());
    let mut ctx = Ctx::new(
        Options::default(),
        false,
        Output::buffers(out.clone(), err.clone()),
    );
    ctx.in_session = true;
    ctx.open(ftp3700::url::FtpUrl::parse(&s.url("/")).unwrap(), false)
        .unwrap();
    let mut source = Lines {
        lines: vec![Input::Line(
            "mkdir one\nmkdir two\r\n\ncd two\npwd\n".into(),
        )],
        remembered: Vec::new(),
        prompts: Vec::new(),
    };
    let ctx = RefCell::new(ctx);
    run_loop(&ctx, &mut source, &mut || {}).unwrap();
    assert_eq!(err.text(), "");
    assert!(s.file("/one").is_dir() && s.file("/two").is_dir());
    assert_eq!(out.text(), "/two\n");
    assert_eq!(
        source.remembered,
        ["mkdir one", "mkdir two", "cd two", "pwd"]
    );
}

#[test]
fn pty_tab_completes_dashed_names_and_options_and_a_paste_runs_each_line() {
    let s = TestServer::start();
    let home = tempfile::tempdir().unwrap();
    let prompt = "alice@127.0.0.1:/> ";
    let mut p = spawn(home.path(), &s.url("/"));
    p.expect(prompt);
    p.send("lim");
    p.send("\t");
    p.expect("limit-rate ");
    p.line("2M");
    p.expect("rate limit");
    p.expect(prompt);
    p.send("ls --js");
    p.send("\t");
    p.expect("--json ");
    p.enter();
    p.expect("\"summary\"");
    p.expect(prompt);
    // A bracketed paste of two lines, then Enter.
    p.send("\x1b[200~mkdir pasted-one\rmkdir pasted-two\x1b[201~");
    p.expect("pasted-two");
    p.enter();
    p.expect(prompt);
    let listed = p.run("ls", prompt);
    assert!(
        listed.contains("pasted-one\r\n") && listed.contains("pasted-two\r\n"),
        "{listed}"
    );
    let status = p.ctrl_d_and_exit();
    assert!(status.ends_with(", 0)"), "{status}");
    assert!(s.file("/pasted-one").is_dir(), "first pasted line ran");
    assert!(s.file("/pasted-two").is_dir(), "second pasted line ran");
}

#[test]
fn pty_a_transfer_says_one_line_the_hint_shows_usage_cd_completes_dirs_and_bang_runs() {
    let s = TestServer::start();
    s.put("/pub/a.txt", b"12345");
    s.put("/dfile.txt", b"d");
    std::fs::create_dir(s.file("/docs")).unwrap();
    let home = tempfile::tempdir().unwrap();
    let mut p = spawn(home.path(), &s.url("/"));
    p.expect("alice@127.0.0.1:/> ");
    // The hint: the usage line of the command being typed, from the table.
    p.send("get ");
    p.expect("[OPTIONS] REMOTE [LOCAL]");
    p.line("pub/a.txt");
    p.expect("a.txt: 5 B in ");
    p.expect("verified by size");
    p.expect("alice@127.0.0.1:/> ");
    // cd completes directories only: `d` has one, docs (dfile.txt is a file).
    p.send("cd d");
    p.send("\t");
    p.expect("ocs/");
    p.enter();
    p.expect("alice@127.0.0.1:/docs> ");
    p.line("!echo shell-said-$((6*7))");
    p.expect("shell-said-42");
    p.expect("alice@127.0.0.1:/docs> ");
    // help fits a 60-column terminal, broken between words.
    p.process().set_window_size(60, 40).unwrap();
    p.line("help");
    p.expect("commands:");
    let text = p.expect("alice@127.0.0.1:/docs> ");
    assert!(text.contains("log out and leave"), "{text}");
    for line in text.lines() {
        assert!(
            line.chars().count() <= 60,
            "wider than the terminal: {line:?}"
        );
    }
    let status = p.ctrl_d_and_exit();
    assert!(status.ends_with(", 0)"), "{status}");
    assert_eq!(std::fs::read(home.path().join("a.txt")).unwrap(), b"12345");
}
