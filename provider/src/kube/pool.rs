//! One bounded request pool per client: at most N requests with the API server at once,
//! however many apps Terraform works on in parallel. A request holds its place until its
//! response body has been read (or dropped), so a large LIST counts for as long as the server
//! is sending it; a watch holds it only until the response starts, since it then stays open
//! for minutes and would otherwise starve every other call.

use http::{Request, Response};
use http_body::{Body, Frame, SizeHint};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tower::{Layer, Service};

/// The [`tower::Layer`] that bounds a client's requests to `max` at once.
#[derive(Clone, Debug)]
pub struct PoolLayer {
    slots: Arc<Semaphore>,
}

impl PoolLayer {
    pub fn new(max: usize) -> Self {
        PoolLayer {
            slots: Arc::new(Semaphore::new(max.max(1))),
        }
    }
}

impl<S> Layer<S> for PoolLayer {
    type Service = Pool<S>;
    fn layer(&self, inner: S) -> Pool<S> {
        Pool {
            inner,
            slots: self.slots.clone(),
            acquiring: None,
            permit: None,
        }
    }
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// The service [`PoolLayer`] makes. Like tower's services, it is ready once it holds a slot
/// (and the inner service is ready); the slot goes with the next call.
pub struct Pool<S> {
    inner: S,
    slots: Arc<Semaphore>,
    acquiring: Option<BoxFuture<Result<OwnedSemaphorePermit, tokio::sync::AcquireError>>>,
    permit: Option<OwnedSemaphorePermit>,
}

/// Whether the request opens a watch (`?watch=true` or `?watch=1`).
fn is_watch<B>(req: &Request<B>) -> bool {
    req.uri()
        .query()
        .is_some_and(|q| q.split('&').any(|kv| kv == "watch=true" || kv == "watch=1"))
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for Pool<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    S::Future: Send + 'static,
{
    type Response = Response<PooledBody<ResBody>>;
    type Error = S::Error;
    type Future = BoxFuture<Result<Self::Response, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        if self.permit.is_none() {
            let slots = &self.slots;
            let acquiring = self
                .acquiring
                .get_or_insert_with(|| Box::pin(slots.clone().acquire_owned()));
            match acquiring.as_mut().poll(cx) {
                Poll::Pending => return Poll::Pending,
                // The semaphore is never closed; were it, requests would go unbounded
                // rather than stop.
                Poll::Ready(permit) => {
                    self.permit = permit.ok();
                    self.acquiring = None;
                }
            }
        }
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<ReqBody>) -> Self::Future {
        let permit = self.permit.take();
        let watch = is_watch(&req);
        let sent = self.inner.call(req);
        Box::pin(async move {
            let resp = sent.await?;
            let permit = if watch { None } else { permit };
            Ok(resp.map(|body| PooledBody { body, permit }))
        })
    }
}

/// A response body that gives its pool slot back when it ends or is dropped.
pub struct PooledBody<B> {
    body: B,
    permit: Option<OwnedSemaphorePermit>,
}

impl<B> Body for PooledBody<B>
where
    B: Body + Unpin,
{
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let polled = Pin::new(&mut self.body).poll_frame(cx);
        if let Poll::Ready(None) = polled {
            self.permit = None;
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_watch_requests_are_watches() {
        let r = |uri: &str| Request::get(uri).body(()).is_ok_and(|r| is_watch(&r));
        assert!(r("/api/v1/namespaces/a/pods?watch=true&resourceVersion=1"));
        assert!(r("/apis/apps/v1/deployments?fieldSelector=x&watch=1"));
        assert!(!r("/apis/apps/v1/namespaces/a/deployments/web"));
        assert!(!r("/api/v1/pods?labelSelector=watch%3Dtrue"));
    }

    /// A service answering at once with a body of one chunk, to count slots below the HTTP
    /// level (the e2e test `test_request_pool.py` counts them at the API server).
    struct Answer;
    impl Service<Request<()>> for Answer {
        type Response = Response<http_body_util::Full<bytes::Bytes>>;
        type Error = std::convert::Infallible;
        type Future = std::future::Ready<Result<Self::Response, Self::Error>>;
        fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
            Poll::Ready(Ok(()))
        }
        fn call(&mut self, _: Request<()>) -> Self::Future {
            std::future::ready(Ok(Response::new(http_body_util::Full::new(
                bytes::Bytes::from_static(b"{}"),
            ))))
        }
    }

    async fn call(
        svc: &mut Pool<Answer>,
        req: Request<()>,
    ) -> Result<Response<PooledBody<http_body_util::Full<bytes::Bytes>>>, std::convert::Infallible>
    {
        use tower::ServiceExt;
        svc.ready().await?.call(req).await
    }

    #[tokio::test]
    async fn a_slot_is_held_until_the_body_ends_but_a_watch_gives_it_back_at_once() {
        use http_body_util::BodyExt;
        let layer = PoolLayer::new(1);
        let mut svc = layer.layer(Answer);
        let get = |uri: &'static str| Request::get(uri).body(());

        let Ok(req) = get("/api/v1/pods") else {
            panic!("request")
        };
        let Ok(first) = call(&mut svc, req).await;
        assert_eq!(
            layer.slots.available_permits(),
            0,
            "the unread body holds the slot"
        );
        let Ok(_) = first.into_body().collect().await;
        assert_eq!(
            layer.slots.available_permits(),
            1,
            "read to its end, it gives it back"
        );

        let Ok(req) = get("/api/v1/pods?watch=true") else {
            panic!("request")
        };
        let Ok(watch) = call(&mut svc, req).await;
        assert_eq!(layer.slots.available_permits(), 1, "a watch holds no slot");
        drop(watch);

        let Ok(req) = get("/api/v1/pods") else {
            panic!("request")
        };
        let Ok(dropped) = call(&mut svc, req).await;
        drop(dropped);
        assert_eq!(
            layer.slots.available_permits(),
            1,
            "a dropped body gives it back"
        );
    }
}
