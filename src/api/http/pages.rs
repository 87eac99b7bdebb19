//! `next_page_token` lists, walked page by page.

use super::*;

/// A page of a `next_page_token` list.
pub trait Paged: DeserializeOwned {
    type Item;
    /// Empty when this is the last page.
    fn next_page_token(&self) -> &str;
    fn into_items(self) -> Vec<Self::Item>;
}

impl Transport {
    /// The pages of a `next_page_token` list, one request per page, lazily.
    pub fn pages<P: Paged>(&self, req: Request) -> Pages<'_, P> {
        Pages {
            transport: self,
            req,
            token: None,
            done: false,
            pages: 0,
            _p: std::marker::PhantomData,
        }
    }
    /// Every item of every page.
    pub fn collect_pages<P: Paged>(&self, req: Request) -> Result<Vec<P::Item>, ApiError> {
        let mut out = Vec::new();
        for page in self.pages::<P>(req) {
            out.extend(page?.into_items());
        }
        Ok(out)
    }
}

/// Lazily fetched pages; stops after the page whose `next_page_token` is empty.
pub struct Pages<'a, P> {
    transport: &'a Transport,
    req: Request,
    token: Option<String>,
    done: bool,
    pages: u32,
    _p: std::marker::PhantomData<P>,
}

/// More pages than any real list has (100 items each): a server looping on one token stops here.
pub(super) const MAX_PAGES: u32 = 100_000;

impl<P: Paged> Iterator for Pages<'_, P> {
    type Item = Result<P, ApiError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        let mut req = self.req.clone();
        if let Some(t) = &self.token {
            req = req.query("next_page_token", t);
        }
        let page: P = match self.transport.send(&req) {
            Ok(p) => p,
            Err(e) => {
                self.done = true;
                return Some(Err(e));
            }
        };
        self.pages += 1;
        let next = page.next_page_token().to_string();
        if next.is_empty()
            || self.token.as_deref() == Some(next.as_str())
            || self.pages >= MAX_PAGES
        {
            self.done = true;
        } else {
            self.token = Some(next);
        }
        Some(Ok(page))
    }
}
