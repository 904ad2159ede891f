//! A real HTTP/1.1 server on 127.0.0.1 with a free port, serving registered paths with
//! Range support, ETags (the body's sha256; `If-None-Match` that matches is a 304) and
//! scripted faults (an error status, a connection cut mid-body).
//! Stopped by its guard on drop; requests are logged to a file, never to stdout.

use std::collections::{HashMap, VecDeque};
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

#[derive(Debug, Clone)]
pub enum Fault {
    /// Answer with this status and no body.
    Status(u16),
    /// Send the headers and this many body bytes, then close the connection.
    CutAfter(usize),
}

#[derive(Default)]
struct Route {
    body: Vec<u8>,
    faults: VecDeque<Fault>,
    range: bool,
}

#[derive(Default)]
struct State {
    routes: HashMap<String, Route>,
    /// Paths not registered are served from here, when set.
    dir: Option<PathBuf>,
    /// (path, range header) of every request, in order.
    log: Vec<(String, Option<String>)>,
    /// (path, If-None-Match header, status) of every request, in order.
    conditional: Vec<(String, Option<String>, u16)>,
}

pub struct HttpServer {
    pub port: u16,
    stop: Arc<AtomicBool>,
    state: Arc<Mutex<State>>,
    handle: Option<JoinHandle<()>>,
    pub log_file: PathBuf,
}

impl HttpServer {
    pub fn start(log_file: PathBuf) -> HttpServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let state = Arc::new(Mutex::new(State::default()));
        let (s, st, log) = (stop.clone(), state.clone(), log_file.clone());
        let handle = std::thread::spawn(move || {
            while !s.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((conn, _)) => {
                        let (st, log) = (st.clone(), log.clone());
                        std::thread::spawn(move || {
                            let _ = serve(conn, &st, &log);
                        });
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        HttpServer {
            port,
            stop,
            state,
            handle: Some(handle),
            log_file,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!(
            "http://127.0.0.1:{}/{}",
            self.port,
            path.trim_start_matches('/')
        )
    }

    /// Serve every file below `dir` (a file store, say) at its relative path.
    pub fn serve_dir(&self, dir: &std::path::Path) {
        self.state.lock().unwrap().dir = Some(dir.to_path_buf());
    }

    pub fn add(&self, path: &str, body: Vec<u8>) {
        self.state.lock().unwrap().routes.insert(
            format!("/{}", path.trim_start_matches('/')),
            Route {
                body,
                faults: VecDeque::new(),
                range: true,
            },
        );
    }

    /// Faults for the next requests to `path`, one per request, in order.
    pub fn faults(&self, path: &str, faults: Vec<Fault>) {
        let mut st = self.state.lock().unwrap();
        let r = st
            .routes
            .get_mut(&format!("/{}", path.trim_start_matches('/')))
            .expect("add the path first");
        r.faults.extend(faults);
    }

    pub fn no_range(&self, path: &str) {
        let mut st = self.state.lock().unwrap();
        st.routes
            .get_mut(&format!("/{}", path.trim_start_matches('/')))
            .expect("add the path first")
            .range = false;
    }

    /// Requests seen for `path`: the If-None-Match header of each and the status sent.
    pub fn conditional_requests(&self, path: &str) -> Vec<(Option<String>, u16)> {
        let want = format!("/{}", path.trim_start_matches('/'));
        self.state
            .lock()
            .unwrap()
            .conditional
            .iter()
            .filter(|(p, _, _)| *p == want)
            .map(|(_, h, s)| (h.clone(), *s))
            .collect()
    }

    /// Requests seen for `path`: the Range header of each (None when absent).
    pub fn requests(&self, path: &str) -> Vec<Option<String>> {
        let want = format!("/{}", path.trim_start_matches('/'));
        self.state
            .lock()
            .unwrap()
            .log
            .iter()
            .filter(|(p, _)| *p == want)
            .map(|(_, r)| r.clone())
            .collect()
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

fn serve(conn: TcpStream, state: &Mutex<State>, log: &PathBuf) -> std::io::Result<()> {
    conn.set_nonblocking(false)?;
    conn.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut reader = BufReader::new(conn.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let path = line.split_whitespace().nth(1).unwrap_or("/").to_string();
    let mut range = None;
    let mut if_none_match = None;
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h)? == 0 || h == "\r\n" {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            if k.eq_ignore_ascii_case("range") {
                range = Some(v.trim().to_string());
            } else if k.eq_ignore_ascii_case("if-none-match") {
                if_none_match = Some(v.trim().to_string());
            }
        }
    }
    let (body, fault, honour_range) = {
        let mut st = state.lock().unwrap();
        st.log.push((path.clone(), range.clone()));
        match st.routes.get_mut(&path) {
            Some(r) => (Some(r.body.clone()), r.faults.pop_front(), r.range),
            None => {
                let file = st
                    .dir
                    .as_ref()
                    .filter(|_| !path.contains(".."))
                    .and_then(|d| std::fs::read(d.join(path.trim_start_matches('/'))).ok());
                (file, None, true)
            }
        }
    };
    let mut out = conn;
    let status_line = |code: u16| -> String {
        let reason = match code {
            200 => "OK",
            206 => "Partial Content",
            404 => "Not Found",
            503 => "Service Unavailable",
            _ => "Status",
        };
        format!("HTTP/1.1 {code} {reason}\r\n")
    };
    let _ = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .and_then(|mut f| writeln!(f, "GET {path} range={range:?} fault={fault:?}"));
    let record = |status: u16| {
        state
            .lock()
            .unwrap()
            .conditional
            .push((path.clone(), if_none_match.clone(), status));
    };
    let Some(body) = body else {
        record(404);
        write!(
            out,
            "{}Content-Length: 0\r\nConnection: close\r\n\r\n",
            status_line(404)
        )?;
        return Ok(());
    };
    let etag = format!("\"{}\"", crate::sha256_hex(&body));
    if fault.is_none() && if_none_match.as_deref() == Some(etag.as_str()) {
        record(304);
        write!(
            out,
            "HTTP/1.1 304 Not Modified\r\nETag: {etag}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )?;
        return Ok(());
    }
    if let Some(Fault::Status(code)) = fault {
        record(code);
        write!(
            out,
            "{}Content-Length: 0\r\nConnection: close\r\n\r\n",
            status_line(code)
        )?;
        return Ok(());
    }
    let start = range
        .as_deref()
        .filter(|_| honour_range)
        .and_then(|r| r.strip_prefix("bytes="))
        .and_then(|r| r.strip_suffix('-'))
        .and_then(|n| n.parse::<usize>().ok())
        .filter(|n| *n < body.len());
    let (code, slice, mut extra) = match start {
        Some(n) => (
            206,
            &body[n..],
            format!(
                "Content-Range: bytes {n}-{}/{}\r\n",
                body.len() - 1,
                body.len()
            ),
        ),
        None => (200, &body[..], String::new()),
    };
    record(code);
    extra.push_str(&format!("ETag: {etag}\r\n"));
    write!(
        out,
        "{}Content-Length: {}\r\n{extra}Accept-Ranges: bytes\r\nConnection: close\r\n\r\n",
        status_line(code),
        slice.len()
    )?;
    match fault {
        Some(Fault::CutAfter(n)) => {
            out.write_all(&slice[..n.min(slice.len())])?;
            out.flush()?;
            let _ = out.shutdown(std::net::Shutdown::Both);
        }
        _ => out.write_all(slice)?,
    }
    Ok(())
}
