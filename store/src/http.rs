//! A store served over plain HTTP(S) with the same key layout: a CDN or a mirror of a
//! file store. Read-only: it can get and stream objects (resuming with Range), but not
//! list or write them. Transient failures (connection errors, 5xx, 429) are retried a
//! bounded number of times with backoff.

use std::io::{self, Read};
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::blocking::{Client, Response};

use crate::{Condition, ETag, PutOutcome, Store, StoreError, check_key};

pub struct HttpStore {
    base: String,
    client: Client,
}

impl HttpStore {
    pub fn new(url: &str) -> Result<HttpStore, StoreError> {
        let client = Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(60))
            .user_agent(concat!("kiln/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| StoreError::BadUrl {
                url: url.to_string(),
                why: e.to_string(),
            })?;
        Ok(HttpStore {
            base: url.trim_end_matches('/').to_string(),
            client,
        })
    }

    fn url_of(&self, key: &str) -> Result<String, StoreError> {
        check_key(key)?;
        Ok(format!("{}/{key}", self.base))
    }

    /// GET with retries; None for 404.
    fn get_response(&self, key: &str, offset: u64) -> Result<Option<Response>, StoreError> {
        self.get_if(key, offset, None)
    }

    /// GET with retries, conditional on `if_none_match` (a 304 is returned as is);
    /// None for 404.
    fn get_if(
        &self,
        key: &str,
        offset: u64,
        if_none_match: Option<&ETag>,
    ) -> Result<Option<Response>, StoreError> {
        use plumbing::retry::{Attempt, GaveUp, retry};
        let url = self.url_of(key)?;
        retry(|| {
            let mut req = self.client.get(&url);
            if offset > 0 {
                req = req.header(reqwest::header::RANGE, format!("bytes={offset}-"));
            }
            if let Some(tag) = if_none_match {
                req = req.header(reqwest::header::IF_NONE_MATCH, &tag.0);
            }
            match req.send() {
                Ok(r) if r.status() == StatusCode::NOT_FOUND => Attempt::Done(None),
                Ok(r) if r.status() == StatusCode::NOT_MODIFIED => Attempt::Done(Some(r)),
                Ok(r) if r.status().is_success() => Attempt::Done(Some(r)),
                Ok(r)
                    if r.status().is_server_error()
                        || r.status() == StatusCode::TOO_MANY_REQUESTS =>
                {
                    Attempt::Transient(format!("HTTP {}", r.status()))
                }
                Ok(r) => Attempt::Fatal(format!("HTTP {}", r.status())),
                Err(e) => Attempt::Transient(describe(e)),
            }
        })
        .map_err(|g| StoreError::Unreachable {
            url: url.clone(),
            why: match g {
                GaveUp::Fatal(why) | GaveUp::Exhausted(why) => why,
            },
        })
    }
}

/// An HTTP client error with its causes, without the URL (messages name it once).
pub fn describe(e: reqwest::Error) -> String {
    use std::error::Error as _;
    let e = e.without_url();
    let mut msg = e.to_string();
    let mut src = e.source();
    while let Some(s) = src {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        src = s.source();
    }
    msg
}

impl Store for HttpStore {
    fn url(&self) -> String {
        self.base.clone()
    }

    fn get(&self, key: &str) -> Result<Option<(Vec<u8>, ETag)>, StoreError> {
        Ok(match self.poll(key, None)? {
            crate::Poll::Changed(body, tag) => Some((body, tag)),
            crate::Poll::Missing | crate::Poll::Unchanged => None,
        })
    }

    fn poll(&self, key: &str, known: Option<&ETag>) -> Result<crate::Poll, StoreError> {
        let known = known.filter(|t| !t.0.is_empty());
        let Some(mut resp) = self.get_if(key, 0, known)? else {
            return Ok(crate::Poll::Missing);
        };
        if resp.status() == StatusCode::NOT_MODIFIED {
            return Ok(crate::Poll::Unchanged);
        }
        let tag = resp
            .headers()
            .get(reqwest::header::ETAG)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        // A server that ignores If-None-Match still sends the same tag.
        if known.is_some_and(|k| k.0 == tag) {
            return Ok(crate::Poll::Unchanged);
        }
        let body = crate::read_record(&mut resp, &self.base, key)?;
        Ok(crate::Poll::Changed(body, ETag(tag)))
    }

    fn open_at(&self, key: &str, offset: u64) -> Result<Option<Box<dyn Read + Send>>, StoreError> {
        let Some(resp) = self.get_response(key, offset)? else {
            return Ok(None);
        };
        if offset > 0 && resp.status() != StatusCode::PARTIAL_CONTENT {
            // The server sent the whole object: skip what we already have.
            let mut r = resp;
            io::copy(&mut (&mut r).take(offset), &mut io::sink()).map_err(|e| {
                StoreError::Unreachable {
                    url: self.base.clone(),
                    why: format!("reading {key}: {e}"),
                }
            })?;
            return Ok(Some(Box::new(r)));
        }
        Ok(Some(Box::new(resp)))
    }

    fn put(
        &self,
        _key: &str,
        _body: &mut dyn Read,
        _c: Condition,
    ) -> Result<PutOutcome, StoreError> {
        Err(StoreError::Unsupported {
            url: self.base.clone(),
            why: "https stores are read-only; publish to the store they mirror".into(),
        })
    }

    fn list(&self, _prefix: &str) -> Result<Vec<String>, StoreError> {
        Err(StoreError::Unsupported {
            url: self.base.clone(),
            why: "https stores cannot be listed".into(),
        })
    }
}
