//! One request described without a URL, and the URL the transport joins it to.

use super::*;

/// One request, described without a URL: the transport joins it to the service's base URL.
///
/// Path templates name their variables in braces (`/phone/users/{userId}/phone_numbers`); each is
/// filled with [`Request::arg`] and percent-encoded as one path segment.
#[derive(Clone, Debug)]
pub struct Request {
    pub(super) service: Service,
    pub(super) op: String,
    pub(super) target: String,
    pub(super) method: Method,
    pub(super) template: String,
    pub(super) args: Vec<(String, String)>,
    pub(super) query: Vec<(String, String)>,
    pub(super) body: Option<serde_json::Value>,
    pub(super) category: Option<RateCategory>,
    pub(super) idempotent: bool,
}

impl Request {
    /// A request; GET, PUT, PATCH and DELETE count as idempotent, POST does not.
    pub fn new(service: Service, method: Method, template: &str, op: &str) -> Self {
        let idempotent = method != Method::POST;
        Request {
            service,
            op: op.to_string(),
            target: String::new(),
            method,
            template: template.to_string(),
            args: Vec::new(),
            query: Vec::new(),
            body: None,
            category: None,
            idempotent,
        }
    }

    pub fn get(service: Service, template: &str, op: &str) -> Self {
        Self::new(service, Method::GET, template, op)
    }
    pub fn post(service: Service, template: &str, op: &str) -> Self {
        Self::new(service, Method::POST, template, op)
    }
    pub fn patch(service: Service, template: &str, op: &str) -> Self {
        Self::new(service, Method::PATCH, template, op)
    }
    pub fn delete(service: Service, template: &str, op: &str) -> Self {
        Self::new(service, Method::DELETE, template, op)
    }

    /// A request to an entry of the Movius path table.
    pub fn endpoint(service: Service, ep: &Endpoint, op: &str) -> Self {
        Self::at(service, ep.method, ep.path, op)
    }

    /// A request to a path of the Movius path table as a profile resolved it.
    pub fn at(service: Service, method: &str, template: &str, op: &str) -> Self {
        let method = Method::from_bytes(method.as_bytes()).unwrap_or(Method::POST);
        Self::new(service, method, template, op)
    }

    /// Fill the `{name}` variable of the path.
    pub fn arg(mut self, name: &str, value: impl Into<String>) -> Self {
        self.args.push((name.to_string(), value.into()));
        self
    }

    pub fn query(mut self, key: &str, value: impl ToString) -> Self {
        self.query.push((key.to_string(), value.to_string()));
        self
    }

    pub fn query_opt(self, key: &str, value: Option<impl ToString>) -> Self {
        match value {
            Some(v) => self.query(key, v),
            None => self,
        }
    }

    /// A JSON body. Serializing the wire types cannot fail; if it ever did, the body is `null`
    /// and the service's 400 says so.
    pub fn json<B: Serialize>(mut self, body: &B) -> Self {
        self.body = Some(serde_json::to_value(body).unwrap_or(serde_json::Value::Null));
        self
    }

    /// The Zoom rate-limit category of this endpoint (the spec's "Rate Limit Label").
    pub fn category(mut self, cat: RateCategory) -> Self {
        self.category = Some(cat);
        self
    }

    /// What the call acts on, for errors and logs (a number, an email, an org id).
    pub fn target(mut self, target: impl Into<String>) -> Self {
        self.target = target.into();
        self
    }

    /// Mark a POST that only reads (Movius `myid_authentications/get`) as safe to repeat.
    pub fn read_only(mut self) -> Self {
        self.idempotent = true;
        self
    }

    /// Mark a POST whose repetition changes nothing more (the carrier's `POST /ptns`:
    /// provisioning a number again is a no-op) as safe to repeat after a 5xx or a lost answer.
    pub fn idempotent(mut self) -> Self {
        self.idempotent = true;
        self
    }

    pub fn op(&self) -> &str {
        &self.op
    }

    pub(super) fn local_error(&self, message: impl Into<String>) -> ApiError {
        ApiError::local(self.service, &self.op, &self.target, message)
    }
}

impl Transport {
    pub(super) fn base_url(&self, service: Service) -> Result<&str, String> {
        match service {
            Service::Zoom => Ok(&self.endpoints.zoom.api_url),
            Service::Movius => Ok(&self.endpoints.movius.base_url),
            Service::Carrier => self
                .endpoints
                .carrier
                .as_ref()
                .map(|c| c.base_url.as_str())
                .ok_or_else(|| "the carrier API exists only in the sandbox profile".to_string()),
        }
    }
    pub(super) fn url(&self, req: &Request) -> Result<Url, ApiError> {
        let base = self.base_url(req.service).map_err(|m| req.local_error(m))?;
        let mut url = Url::parse(base)
            .map_err(|e| req.local_error(format!("bad base URL for {}: {e}", req.service)))?;
        {
            let mut segs = url
                .path_segments_mut()
                .map_err(|_| req.local_error(format!("bad base URL for {}", req.service)))?;
            segs.pop_if_empty();
            for seg in req.template.split('/').filter(|s| !s.is_empty()) {
                if let Some(name) = seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                    let value = req
                        .args
                        .iter()
                        .find(|(k, _)| k == name)
                        .map(|(_, v)| v.as_str())
                        .unwrap_or_default();
                    if value.is_empty() {
                        drop(segs);
                        return Err(req.local_error(format!("{name} is empty")));
                    }
                    segs.push(value);
                } else {
                    segs.push(seg);
                }
            }
        }
        if !req.query.is_empty() {
            url.query_pairs_mut()
                .extend_pairs(req.query.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        }
        Ok(url)
    }
}
