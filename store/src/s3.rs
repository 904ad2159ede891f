//! S3 and S3-compatible servers (`s3://bucket/prefix?endpoint=URL&path_style=true`),
//! through aws-sdk-s3 with the standard credential chain, region and
//! `AWS_ENDPOINT_URL`. Uploads stream: small objects in one PutObject, large ones as a
//! multipart upload with several parts in flight; every part carries a SHA-256
//! checksum the server verifies. Create-only and compare-and-swap writes use
//! `If-None-Match: *` and `If-Match`, after a HEAD that also serves servers lacking
//! conditional writes. Throttling and 5xx are retried (4 attempts, backoff).

use std::io::{self, Read};
use std::sync::Arc;
use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_s3::Client;
use aws_sdk_s3::config::Region;
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{ChecksumAlgorithm, CompletedMultipartUpload, CompletedPart};
use tokio::runtime::Runtime;

use crate::{Condition, ETag, PutOutcome, Store, StoreError, check_key};

/// Objects up to this size go in one request; larger ones in parts of this size.
const PART_SIZE: usize = 8 * 1024 * 1024;
const PARTS_IN_FLIGHT: usize = 4;

pub struct S3Store {
    rt: Arc<Runtime>,
    client: Client,
    bucket: String,
    /// "" or "some/prefix/".
    prefix: String,
    url: String,
    /// Where the credentials come from, for messages about refused ones.
    credentials: String,
}

fn bad(url: &str, why: impl Into<String>) -> StoreError {
    StoreError::BadUrl {
        url: url.to_string(),
        why: why.into(),
    }
}

/// Which source of the standard chain will answer, in its order.
fn credential_source() -> String {
    if std::env::var_os("AWS_ACCESS_KEY_ID").is_some() {
        "credentials from the environment (AWS_ACCESS_KEY_ID)".into()
    } else if let Some(p) = std::env::var_os("AWS_PROFILE") {
        format!(
            "credentials of profile {:?} (AWS_PROFILE)",
            p.to_string_lossy()
        )
    } else if std::env::var_os("AWS_WEB_IDENTITY_TOKEN_FILE").is_some() {
        "web identity credentials (AWS_WEB_IDENTITY_TOKEN_FILE)".into()
    } else {
        "the default credential chain (~/.aws/credentials, container or instance role)".into()
    }
}

impl S3Store {
    pub fn new(url: &str) -> Result<S3Store, StoreError> {
        let rest = url
            .strip_prefix("s3://")
            .ok_or_else(|| bad(url, "not an s3:// URL"))?;
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        let (bucket, prefix) = path.split_once('/').unwrap_or((path, ""));
        if bucket.is_empty() {
            return Err(bad(url, "no bucket: write s3://BUCKET/PREFIX"));
        }
        let prefix = prefix.trim_matches('/');
        let prefix = if prefix.is_empty() {
            String::new()
        } else {
            format!("{prefix}/")
        };
        let (mut endpoint, mut path_style, mut region) = (None, false, None);
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            match pair.split_once('=') {
                Some(("endpoint", v)) => endpoint = Some(v.to_string()),
                Some(("path_style", v)) => path_style = v == "true",
                Some(("region", v)) => region = Some(v.to_string()),
                _ => {
                    return Err(bad(
                        url,
                        format!(
                            "unknown parameter {pair:?}; use endpoint=, path_style= or region="
                        ),
                    ));
                }
            }
        }
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| bad(url, format!("cannot start the I/O runtime: {e}")))?;
        let mut loader = aws_config::defaults(BehaviorVersion::latest());
        if let Some(r) = region {
            loader = loader.region(Region::new(r));
        }
        if let Some(e) = endpoint {
            loader = loader.endpoint_url(e);
        }
        let sdk = rt.block_on(loader.load());
        let mut conf = aws_sdk_s3::config::Builder::from(&sdk)
            .force_path_style(path_style)
            .retry_config(RetryConfig::standard().with_max_attempts(4))
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(10))
                    .read_timeout(Duration::from_secs(60))
                    .build(),
            );
        if sdk.region().is_none() {
            conf = conf.region(Region::new("us-east-1"));
        }
        Ok(S3Store {
            rt: Arc::new(rt),
            client: Client::from_conf(conf.build()),
            bucket: bucket.to_string(),
            prefix,
            url: format!(
                "s3://{bucket}/{}",
                path.split_once('/').map_or("", |(_, p)| p)
            ),
            credentials: credential_source(),
        })
    }

    fn full(&self, key: &str) -> Result<String, StoreError> {
        check_key(key)?;
        Ok(format!("{}{key}", self.prefix))
    }

    /// GET, conditional on `known` (If-None-Match): a 304 is `Unchanged`.
    fn get_if(&self, key: &str, known: Option<&ETag>) -> Result<crate::Poll, StoreError> {
        let full = self.full(key)?;
        // A body cut off mid-stream (an object replaced while we read it, a dropped
        // connection) is read again, a bounded number of times.
        use plumbing::retry::{Attempt, GaveUp, retry};
        let got = retry(|| {
            let r = self.rt.block_on(
                self.client
                    .get_object()
                    .bucket(&self.bucket)
                    .key(&full)
                    .set_if_none_match(known.map(|t| t.0.clone()))
                    .send(),
            );
            let out = match r {
                Ok(o) => o,
                Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => {
                    return Attempt::Done(crate::Poll::Missing);
                }
                Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 304) => {
                    return Attempt::Done(crate::Poll::Unchanged);
                }
                Err(e) => return Attempt::Fatal(self.fail(&format!("GET {full}"), e)),
            };
            let tag = ETag(out.e_tag().unwrap_or_default().to_string());
            let size = out.content_length().unwrap_or(0).max(0) as u64;
            if size > crate::MAX_RECORD {
                return Attempt::Fatal(StoreError::TooLarge {
                    url: self.url.clone(),
                    key: key.to_string(),
                    size,
                    limit: crate::MAX_RECORD,
                });
            }
            match self.rt.block_on(out.body.collect()) {
                Ok(b) => Attempt::Done(crate::Poll::Changed(b.into_bytes().to_vec(), tag)),
                Err(e) => Attempt::Transient(e.to_string()),
            }
        });
        got.map_err(|g| match g {
            GaveUp::Fatal(e) => e,
            GaveUp::Exhausted(why) => StoreError::Unreachable {
                url: self.url.clone(),
                why: format!("reading {full}: {why}"),
            },
        })
    }

    fn fail<E: ProvideErrorMetadata + std::error::Error + 'static, R: std::fmt::Debug>(
        &self,
        what: &str,
        e: SdkError<E, R>,
    ) -> StoreError {
        let why = match &e {
            SdkError::ServiceError(se) => {
                let code = se.err().code().unwrap_or("error");
                match code {
                    "InvalidAccessKeyId"
                    | "SignatureDoesNotMatch"
                    | "AccessDenied"
                    | "InvalidToken"
                    | "ExpiredToken"
                    | "InvalidSecurity" => format!(
                        "{what}: {code}: the server refused {}; check the access key, secret and permissions",
                        self.credentials
                    ),
                    "NoSuchBucket" => format!("{what}: bucket {:?} does not exist", self.bucket),
                    _ => format!("{what}: {code}: {}", se.err().message().unwrap_or_default()),
                }
            }
            _ => format!("{what}: {}", DisplayErrorContext(&e)),
        };
        StoreError::Unreachable {
            url: self.url.clone(),
            why,
        }
    }

    /// The object's ETag, or None when absent.
    fn head(&self, full: &str) -> Result<Option<String>, StoreError> {
        let r = self.rt.block_on(
            self.client
                .head_object()
                .bucket(&self.bucket)
                .key(full)
                .send(),
        );
        match r {
            Ok(o) => Ok(Some(o.e_tag().unwrap_or_default().to_string())),
            Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 404) => {
                // A missing bucket answers 404 to HEAD too: tell the two apart.
                if let Err(e) = self
                    .rt
                    .block_on(self.client.head_bucket().bucket(&self.bucket).send())
                {
                    if e.raw_response().is_some_and(|r| r.status().as_u16() == 404) {
                        return Err(StoreError::Unreachable {
                            url: self.url.clone(),
                            why: format!("bucket {:?} does not exist", self.bucket),
                        });
                    }
                    return Err(self.fail("checking the bucket", e));
                }
                Ok(None)
            }
            Err(e) => Err(self.fail(&format!("HEAD {full}"), e)),
        }
    }

    fn is_precondition_failure<E, R>(e: &SdkError<E, R>) -> bool
    where
        E: ProvideErrorMetadata,
    {
        match e {
            SdkError::ServiceError(se) => matches!(
                se.err().code(),
                Some("PreconditionFailed" | "ConditionalRequestConflict")
            ),
            _ => false,
        }
    }

    fn put_small(
        &self,
        full: &str,
        bytes: Vec<u8>,
        condition: &Condition,
    ) -> Result<PutOutcome, StoreError> {
        let mut req = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(full)
            .checksum_algorithm(ChecksumAlgorithm::Sha256)
            .body(ByteStream::from(bytes));
        req = match condition {
            Condition::IfAbsent => req.if_none_match("*"),
            Condition::IfMatch(tag) => req.if_match(&tag.0),
            Condition::Always => req,
        };
        match self.rt.block_on(req.send()) {
            Ok(_) => Ok(PutOutcome::Written),
            Err(e) if Self::is_precondition_failure(&e) => Ok(PutOutcome::ConditionFailed),
            Err(e) => Err(self.fail(&format!("PUT {full}"), e)),
        }
    }

    fn put_multipart(
        &self,
        full: &str,
        first: Vec<u8>,
        body: &mut dyn Read,
        condition: &Condition,
    ) -> Result<PutOutcome, StoreError> {
        let created = self
            .rt
            .block_on(
                self.client
                    .create_multipart_upload()
                    .bucket(&self.bucket)
                    .key(full)
                    .checksum_algorithm(ChecksumAlgorithm::Sha256)
                    .send(),
            )
            .map_err(|e| self.fail(&format!("starting the upload of {full}"), e))?;
        let upload_id = created.upload_id().unwrap_or_default().to_string();
        let result = self.upload_parts(full, &upload_id, first, body, condition);
        if !matches!(result, Ok(PutOutcome::Written)) {
            let _ = self.rt.block_on(
                self.client
                    .abort_multipart_upload()
                    .bucket(&self.bucket)
                    .key(full)
                    .upload_id(&upload_id)
                    .send(),
            );
        }
        result
    }

    fn upload_parts(
        &self,
        full: &str,
        upload_id: &str,
        first: Vec<u8>,
        body: &mut dyn Read,
        condition: &Condition,
    ) -> Result<PutOutcome, StoreError> {
        let mut running = tokio::task::JoinSet::new();
        let mut done: Vec<CompletedPart> = Vec::new();
        let mut next = Some(first);
        let mut number = 0i32;
        let collect = |r: Result<Result<CompletedPart, StoreError>, tokio::task::JoinError>| {
            r.map_err(|e| StoreError::Unreachable {
                url: self.url.clone(),
                why: format!("an upload task failed: {e}"),
            })?
        };
        while let Some(bytes) = next.take() {
            number += 1;
            let (client, bucket, key, id) = (
                self.client.clone(),
                self.bucket.clone(),
                full.to_string(),
                upload_id.to_string(),
            );
            let url = self.url.clone();
            let credentials = self.credentials.clone();
            running.spawn_on(
                async move {
                    let out = client
                        .upload_part()
                        .bucket(bucket)
                        .key(&key)
                        .upload_id(id)
                        .part_number(number)
                        .checksum_algorithm(ChecksumAlgorithm::Sha256)
                        .body(ByteStream::from(bytes))
                        .send()
                        .await
                        .map_err(|e| StoreError::Unreachable {
                            url,
                            why: format!(
                                "uploading part {number} of {key}: {} ({credentials})",
                                DisplayErrorContext(&e)
                            ),
                        })?;
                    Ok(CompletedPart::builder()
                        .part_number(number)
                        .set_e_tag(out.e_tag().map(str::to_string))
                        .set_checksum_sha256(out.checksum_sha256().map(str::to_string))
                        .build())
                },
                self.rt.handle(),
            );
            if number == 1 {
                plumbing::fault::stop("s3-part");
            }
            while running.len() >= PARTS_IN_FLIGHT {
                let r = self
                    .rt
                    .block_on(running.join_next())
                    .expect("tasks running");
                done.push(collect(r)?);
            }
            let buf = read_up_to(body, PART_SIZE).map_err(|e| StoreError::Io {
                path: full.into(),
                source: e,
            })?;
            if !buf.is_empty() {
                next = Some(buf);
            }
        }
        while let Some(r) = self.rt.block_on(running.join_next()) {
            done.push(collect(r)?);
        }
        done.sort_by_key(|p| p.part_number());
        let mut req = self
            .client
            .complete_multipart_upload()
            .bucket(&self.bucket)
            .key(full)
            .upload_id(upload_id)
            .multipart_upload(
                CompletedMultipartUpload::builder()
                    .set_parts(Some(done))
                    .build(),
            );
        req = match condition {
            Condition::IfAbsent => req.if_none_match("*"),
            Condition::IfMatch(tag) => req.if_match(&tag.0),
            Condition::Always => req,
        };
        match self.rt.block_on(req.send()) {
            Ok(_) => Ok(PutOutcome::Written),
            Err(e) if Self::is_precondition_failure(&e) => Ok(PutOutcome::ConditionFailed),
            Err(e) => Err(self.fail(&format!("completing the upload of {full}"), e)),
        }
    }
}

fn read_up_to(r: &mut dyn Read, limit: usize) -> io::Result<Vec<u8>> {
    let mut buf = Vec::with_capacity(limit);
    r.take(limit as u64).read_to_end(&mut buf)?;
    Ok(buf)
}

/// A blocking reader over a streamed S3 body.
struct BodyReader {
    rt: Arc<Runtime>,
    body: ByteStream,
    chunk: bytes::Bytes,
}

impl Read for BodyReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.chunk.is_empty() {
            match self.rt.block_on(self.body.try_next()) {
                Ok(Some(b)) => self.chunk = b,
                Ok(None) => return Ok(0),
                Err(e) => return Err(io::Error::other(e)),
            }
        }
        let n = buf.len().min(self.chunk.len());
        buf[..n].copy_from_slice(&self.chunk.split_to(n));
        Ok(n)
    }
}

impl Store for S3Store {
    fn url(&self) -> String {
        self.url.clone()
    }

    fn get(&self, key: &str) -> Result<Option<(Vec<u8>, ETag)>, StoreError> {
        Ok(match self.get_if(key, None)? {
            crate::Poll::Changed(b, t) => Some((b, t)),
            crate::Poll::Missing | crate::Poll::Unchanged => None,
        })
    }

    fn poll(&self, key: &str, known: Option<&ETag>) -> Result<crate::Poll, StoreError> {
        let known = known.filter(|t| !t.0.is_empty());
        // A server that ignores If-None-Match still sends the same tag.
        Ok(match self.get_if(key, known)? {
            crate::Poll::Changed(_, tag) if Some(&tag) == known => crate::Poll::Unchanged,
            p => p,
        })
    }

    fn open_at(&self, key: &str, offset: u64) -> Result<Option<Box<dyn Read + Send>>, StoreError> {
        let full = self.full(key)?;
        let mut req = self.client.get_object().bucket(&self.bucket).key(&full);
        if offset > 0 {
            req = req.range(format!("bytes={offset}-"));
        }
        match self.rt.block_on(req.send()) {
            Ok(o) => Ok(Some(Box::new(BodyReader {
                rt: self.rt.clone(),
                body: o.body,
                chunk: bytes::Bytes::new(),
            }))),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => Ok(None),
            Err(e) => Err(self.fail(&format!("GET {full}"), e)),
        }
    }

    fn put(
        &self,
        key: &str,
        body: &mut dyn Read,
        condition: Condition,
    ) -> Result<PutOutcome, StoreError> {
        let full = self.full(key)?;
        // The HEAD answers cheaply when the condition already fails, and keeps
        // create-only writes correct on servers that ignore conditional headers.
        // (An unconditional write needs no HEAD: one request less per receipt.)
        let current = match condition {
            Condition::Always => None,
            _ => self.head(&full)?,
        };
        match (&condition, &current) {
            (Condition::IfAbsent, Some(_)) => return Ok(PutOutcome::ConditionFailed),
            (Condition::IfMatch(tag), cur) if cur.as_deref() != Some(tag.0.as_str()) => {
                return Ok(PutOutcome::ConditionFailed);
            }
            _ => {}
        }
        let first = read_up_to(body, PART_SIZE).map_err(|e| StoreError::Io {
            path: full.clone().into(),
            source: e,
        })?;
        if first.len() < PART_SIZE {
            self.put_small(&full, first, &condition)
        } else {
            self.put_multipart(&full, first, body, &condition)
        }
    }

    fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        let full_prefix = format!("{}{prefix}", self.prefix);
        let mut out = Vec::new();
        let mut token = None;
        loop {
            let r = self
                .rt
                .block_on(
                    self.client
                        .list_objects_v2()
                        .bucket(&self.bucket)
                        .prefix(&full_prefix)
                        .set_continuation_token(token.take())
                        .send(),
                )
                .map_err(|e| self.fail(&format!("listing {full_prefix}"), e))?;
            for o in r.contents() {
                if let Some(k) = o.key().and_then(|k| k.strip_prefix(&self.prefix)) {
                    out.push(k.to_string());
                }
            }
            match r.next_continuation_token() {
                Some(t) if r.is_truncated() == Some(true) => token = Some(t.to_string()),
                _ => break,
            }
        }
        out.sort();
        Ok(out)
    }
}
