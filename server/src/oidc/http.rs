//! The HTTP client the OpenID Connect flow talks to its provider with (discovery, keys, token
//! exchange): hyper with rustls and the system's roots, as the webhooks use — no second HTTP
//! stack in the binary. Redirects are not followed (a provider's answer is taken as given, so a
//! redirect cannot send the client elsewhere), answers are capped and time out.

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Bytes;
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::TokioExecutor;
use openidconnect::{HttpRequest, HttpResponse};
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

/// No provider answer legitimately takes longer (a key set, a token).
const TIMEOUT: Duration = Duration::from_secs(10);
/// A discovery document, a key set or a token answer is a few KB.
const MAX_BODY: usize = 1 << 20;

#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("no TLS root certificates on this machine: {0}")]
    Roots(String),
    #[error("{0}")]
    Request(String),
    #[error("no answer within {} s", TIMEOUT.as_secs())]
    Timeout,
}

type Https = hyper_rustls::HttpsConnector<HttpConnector>;

/// One client, reused for every request to the provider.
#[derive(Clone)]
pub struct Http {
    client: Client<Https, Full<Bytes>>,
}

impl Http {
    pub fn new() -> Result<Self, HttpError> {
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_native_roots(rustls::crypto::aws_lc_rs::default_provider())
            .map_err(|e| HttpError::Roots(e.to_string()))?
            .https_or_http()
            .enable_http1()
            .build();
        Ok(Http {
            client: Client::builder(TokioExecutor::new()).build(https),
        })
    }

    /// Sends one request.
    pub async fn send(&self, request: HttpRequest) -> Result<HttpResponse, HttpError> {
        let (parts, body) = request.into_parts();
        let request = hyper::Request::from_parts(parts, Full::new(Bytes::from(body)));
        let answer = tokio::time::timeout(TIMEOUT, async {
            let response = self
                .client
                .request(request)
                .await
                .map_err(|e| HttpError::Request(e.to_string()))?;
            let (parts, body) = response.into_parts();
            let body = Limited::new(body, MAX_BODY)
                .collect()
                .await
                .map_err(|e| HttpError::Request(e.to_string()))?
                .to_bytes();
            Ok(HttpResponse::from_parts(parts, body.to_vec()))
        });
        answer.await.map_err(|_| HttpError::Timeout)?
    }
}

/// What `openidconnect` calls for every provider request.
impl<'c> openidconnect::AsyncHttpClient<'c> for Http {
    type Error = HttpError;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, HttpError>> + Send + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(self.send(request))
    }
}
