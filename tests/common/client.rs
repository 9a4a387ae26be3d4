//! The harness's HTTP client: one request per connection over hyper's own
//! client connection, with `Cookie` headers given as text or as raw bytes,
//! and a tiny cookie jar.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::header::{HeaderValue, COOKIE, HOST, SET_COOKIE};
use hyper_util::rt::TokioIo;

/// How long one exchange may take before the test fails.
const EXCHANGE_TIMEOUT: Duration = Duration::from_secs(30);

/// One response as the client saw it.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) set_cookies: Vec<String>,
    pub(crate) body: String,
    /// The `x-csrf-failure` header: the test servers copy the CSRF guard's
    /// `CsrfFailure` there from the extensions of its `403`.
    pub(crate) csrf_failure: Option<String>,
}

impl Reply {
    /// The one `Set-Cookie` of this response.
    #[track_caller]
    pub(crate) fn only_cookie(&self) -> &str {
        assert_eq!(self.set_cookies.len(), 1, "{self:?}");
        &self.set_cookies[0]
    }
}

/// `GET path` with one `Cookie` header per element of `cookie_headers`
/// (raw bytes: obs-text is valid in a header value); `None` if the server
/// closed the connection instead of answering (as a framework may for a
/// request head over its limit).
pub(crate) async fn try_get_bytes(
    addr: SocketAddr,
    path: &str,
    cookie_headers: &[&[u8]],
) -> Option<Reply> {
    exchange(addr, &Req::get(path), cookie_headers, false).await
}

/// A request other than a plain `GET`: a method, extra headers and a body.
#[derive(Debug, Clone)]
pub(crate) struct Req<'a> {
    pub(crate) method: &'a str,
    pub(crate) path: &'a str,
    pub(crate) headers: Vec<(&'a str, String)>,
    pub(crate) body: String,
    /// Sends the body with `Transfer-Encoding: chunked`, in pieces of this
    /// many bytes (each a chunk of its own), instead of with a length.
    pub(crate) chunks: Option<usize>,
}

impl<'a> Req<'a> {
    pub(crate) fn get(path: &'a str) -> Self {
        Req {
            method: "GET",
            path,
            headers: Vec::new(),
            body: String::new(),
            chunks: None,
        }
    }

    /// A `POST` of a urlencoded form.
    pub(crate) fn form(path: &'a str, body: &str) -> Self {
        Req {
            method: "POST",
            path,
            headers: vec![(
                "content-type",
                "application/x-www-form-urlencoded".to_owned(),
            )],
            body: body.to_owned(),
            chunks: None,
        }
    }

    pub(crate) fn method(mut self, method: &'a str) -> Self {
        self.method = method;
        self
    }

    pub(crate) fn header(mut self, name: &'a str, value: &str) -> Self {
        self.headers.push((name, value.to_owned()));
        self
    }

    /// The body sent chunked, in pieces of `size` bytes.
    pub(crate) fn in_chunks(mut self, size: usize) -> Self {
        self.chunks = Some(size.max(1));
        self
    }
}

/// A request body of pieces, each handed to the connection as a frame of
/// its own: with its length known, hyper sends `Content-Length`; without,
/// `Transfer-Encoding: chunked`, one chunk per piece.
struct Pieces {
    pieces: std::collections::VecDeque<Bytes>,
    len: Option<u64>,
}

impl Pieces {
    fn of(req: &Req<'_>) -> Self {
        let body = Bytes::from(req.body.clone());
        match req.chunks {
            None => Pieces {
                len: Some(body.len() as u64),
                pieces: std::iter::once(body).filter(|b| !b.is_empty()).collect(),
            },
            Some(size) => Pieces {
                len: None,
                pieces: (0..body.len())
                    .step_by(size)
                    .map(|at| body.slice(at..(at + size).min(body.len())))
                    .collect(),
            },
        }
    }
}

impl hyper::body::Body for Pieces {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Bytes>, Self::Error>>> {
        std::task::Poll::Ready(
            self.pieces
                .pop_front()
                .map(|piece| Ok(hyper::body::Frame::data(piece))),
        )
    }

    fn is_end_stream(&self) -> bool {
        self.len.is_some() && self.pieces.is_empty()
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        match self.len {
            Some(len) => hyper::body::SizeHint::with_exact(len),
            None => hyper::body::SizeHint::default(),
        }
    }
}

/// `req` with the given `Cookie` header values (one header each).
pub(crate) async fn send(addr: SocketAddr, req: &Req<'_>, cookie_headers: &[String]) -> Reply {
    let headers: Vec<&[u8]> = cookie_headers.iter().map(|h| h.as_bytes()).collect();
    exchange(addr, req, &headers, true)
        .await
        .expect("a response")
}

/// One exchange on a connection of its own; with `clean_close`, the
/// connection must also end without an error once the client is done.
async fn exchange(
    addr: SocketAddr,
    request: &Req<'_>,
    cookie_headers: &[&[u8]],
    clean_close: bool,
) -> Option<Reply> {
    let exchange = async {
        let stream = tokio::net::TcpStream::connect(addr)
            .await
            .expect("connect to the test server");
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .expect("HTTP/1 handshake");
        let conn = tokio::spawn(conn);
        let mut req = hyper::Request::builder()
            .method(request.method)
            .uri(request.path)
            .header(HOST, "localhost");
        for value in cookie_headers {
            let value = HeaderValue::from_bytes(value).expect("a valid header value");
            req = req.header(COOKIE, value);
        }
        for (name, value) in &request.headers {
            req = req.header(*name, value);
        }
        let req = req.body(Pieces::of(request)).expect("valid request");
        let res = sender.send_request(req).await.ok()?;
        let status = res.status().as_u16();
        let set_cookies = res
            .headers()
            .get_all(SET_COOKIE)
            .iter()
            .map(|v| v.to_str().expect("ASCII Set-Cookie").to_owned())
            .collect();
        let csrf_failure = res
            .headers()
            .get("x-csrf-failure")
            .map(|v| v.to_str().expect("ASCII x-csrf-failure").to_owned());
        let body = res.into_body().collect().await.ok()?.to_bytes();
        drop(sender);
        let closed = conn.await.expect("connection task");
        if clean_close {
            closed.expect("connection");
        }
        Some(Reply {
            status,
            set_cookies,
            body: String::from_utf8(body.to_vec()).expect("UTF-8 body"),
            csrf_failure,
        })
    };
    tokio::time::timeout(EXCHANGE_TIMEOUT, exchange)
        .await
        .expect("request finished in time")
}

/// `GET path` with the given raw `Cookie` header values (one header each).
pub(crate) async fn get_bytes(addr: SocketAddr, path: &str, cookie_headers: &[&[u8]]) -> Reply {
    exchange(addr, &Req::get(path), cookie_headers, true)
        .await
        .expect("a response")
}

/// `GET path` with the given `Cookie` header values (one header each).
pub(crate) async fn get(addr: SocketAddr, path: &str, cookie_headers: &[String]) -> Reply {
    let headers: Vec<&[u8]> = cookie_headers.iter().map(|h| h.as_bytes()).collect();
    get_bytes(addr, path, &headers).await
}

/// A minimal cookie jar: names to values, no paths or domains.
#[derive(Debug, Default, Clone)]
pub(crate) struct Jar(BTreeMap<String, String>);

impl Jar {
    /// Stores or removes what the response's `Set-Cookie` headers say.
    pub(crate) fn apply(&mut self, reply: &Reply) {
        for header in &reply.set_cookies {
            let (pair, attrs) = header.split_once(';').unwrap_or((header, ""));
            let (name, value) = pair.split_once('=').expect("name=value");
            let removed = attrs
                .split(';')
                .any(|a| a.trim().eq_ignore_ascii_case("max-age=0"));
            if removed {
                self.0.remove(name);
            } else {
                self.0.insert(name.to_owned(), value.to_owned());
            }
        }
    }

    /// The `Cookie` header values to send (one header, or none).
    pub(crate) fn headers(&self) -> Vec<String> {
        if self.0.is_empty() {
            return Vec::new();
        }
        let pairs: Vec<String> = self.0.iter().map(|(n, v)| format!("{n}={v}")).collect();
        vec![pairs.join("; ")]
    }

    pub(crate) fn value(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }

    pub(crate) fn set(&mut self, name: &str, value: &str) {
        self.0.insert(name.to_owned(), value.to_owned());
    }

    /// `GET path` with this jar's cookies; the reply's cookies go back in.
    pub(crate) async fn get(&mut self, addr: SocketAddr, path: &str) -> Reply {
        let reply = get(addr, path, &self.headers()).await;
        self.apply(&reply);
        reply
    }

    /// `req` with this jar's cookies; the reply's cookies go back in.
    pub(crate) async fn send(&mut self, addr: SocketAddr, req: &Req<'_>) -> Reply {
        let reply = send(addr, req, &self.headers()).await;
        self.apply(&reply);
        reply
    }
}
