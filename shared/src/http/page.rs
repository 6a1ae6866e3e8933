//! Listings by page: the page a request asks for (`page_num`, `page_size`) and the paging
//! fields its answer carries next to the items.

use lambda_http::Request;
use serde::Serialize;
use utoipa::ToSchema;

use crate::http::error::ApiError;
use crate::http::request::{Fields, int_param, validated};

/// `page_num` (>= 1, default 1) and `page_size` (1..=100, default 20).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    pub num: i64,
    pub size: i64,
}

/// The page parameters of every listing, as the OpenAPI document names them
/// (`params(PageParams, ...)` on a listing's path); [`Page::from_request`] reads them.
#[derive(utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// 1-based page number (default 1).
    #[param(minimum = 1)]
    pub page_num: Option<i64>,
    /// Items per page (default 20).
    #[param(minimum = 1, maximum = 100)]
    pub page_size: Option<i64>,
}

impl Page {
    pub const MAX_SIZE: i64 = 100;

    pub fn from_request(req: &Request) -> Result<Self, ApiError> {
        let mut fields = Fields::default();
        let num = fields.check(
            "page_num",
            int_param(req, "page_num", 1, 1..=i64::from(i32::MAX)),
        );
        let size = fields.check(
            "page_size",
            int_param(req, "page_size", 20, 1..=Self::MAX_SIZE),
        );
        fields.finish()?;
        Ok(Self {
            num: validated(num)?,
            size: validated(size)?,
        })
    }

    /// Rows to skip: `(num - 1) * size`.
    pub fn offset(self) -> i64 {
        (self.num - 1) * self.size
    }
}

/// The paging fields of a page response, next to its items (`"users": [...]`):
/// `total_pages = ceil(total / page_size)`, 0 when `total` is 0.
#[derive(Debug, Serialize, ToSchema)]
#[schema(example = json!({"page_num": 1, "page_size": 20, "total": 57, "total_pages": 3}))]
pub struct PageInfo {
    pub page_num: i64,
    pub page_size: i64,
    /// Items in the whole listing. Listings that grow without bound (`GET /users`) count
    /// exactly below `EXACT_TOTAL_LIMIT` items (default 10 000); above it this is the
    /// database's estimate (within a few percent, never below the limit or the end of this
    /// page), and a partial last page gives the exact end.
    pub total: i64,
    /// `ceil(total / page_size)`: estimated with `total`.
    pub total_pages: i64,
}

impl PageInfo {
    pub fn new(page: Page, total: i64) -> Self {
        Self {
            page_num: page.num,
            page_size: page.size,
            total,
            total_pages: (total + page.size - 1) / page.size,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_counts_its_pages() {
        let pages = |total| PageInfo::new(Page { num: 2, size: 2 }, total).total_pages;
        assert_eq!((pages(0), pages(1), pages(4), pages(5)), (0, 1, 2, 3));
    }
}
