//! `total` of a page over a table that grows without bound (every user): exact below a
//! limit, the planner's row estimate above it, computed in the page's own statement so a
//! page stays one round trip and its cost stays flat as the table grows.
//!
//! An exact `count(*)` reads the whole table on every page: linear in its size. Here the
//! statement first reads the planner's estimate (`pg_class.reltuples`, which autovacuum
//! and `ANALYZE` keep current). Only while that is below twice the limit
//! (`EXACT_TOTAL_LIMIT`, default 10 000) does it count, and then at most `limit` rows: a
//! bounded cost. Above, `total` is the estimate. The margin of two keeps totals below the
//! limit exact while the estimate lags (autovacuum re-analyzes after 10% of the rows
//! changed); a never-analyzed table (estimate -1) is counted.

use crate::http::page::Page;

/// The estimate's margin: below `MARGIN * limit` estimated rows, the rows are counted.
pub const MARGIN: i64 = 2;

/// A one-row derived table `totals(estimated, counted)` to join the page to (`FROM ...
/// LEFT JOIN page ON true`): `counted` is the table's rows up to the limit given as
/// parameter `$limit_param`, or NULL when the estimate makes counting pointless (the
/// count is an init-plan, run only when the `CASE` needs it). `table` is a constant of
/// the caller's, never input.
pub fn from(table: &'static str, limit_param: usize) -> String {
    format!(
        "(SELECT e.estimated,
                 CASE WHEN e.estimated < {MARGIN} * ${limit_param}::bigint
                      THEN (SELECT count(*) FROM (SELECT 1 FROM {table} LIMIT ${limit_param}::bigint) AS b)
                 END AS counted
          FROM (SELECT reltuples::bigint AS estimated FROM pg_class
                WHERE oid = '{table}'::regclass) AS e) AS totals"
    )
}

/// `total` from the columns of [`from`]: `counted` when it is below `limit` (exact); a
/// page that is neither empty nor full is the last one, so its end is exact too;
/// otherwise the estimate, raised to at least `limit` and to the end of this page.
pub fn resolve(counted: Option<i64>, estimated: i64, limit: i64, page: Page, rows: usize) -> i64 {
    let rows = i64::try_from(rows).unwrap_or(i64::MAX);
    let reached = page.offset().saturating_add(rows);
    match counted {
        Some(counted) if counted < limit => counted,
        _ if rows > 0 && rows < page.size => reached,
        _ => estimated.max(limit).max(reached),
    }
}

/// `total` of a listing counted up to `limit` rows (`counted`, which is then at most
/// `limit`): exact below the limit; at it, at least the limit and the end of this page,
/// and exact when this page is partial (the last one).
pub fn bounded(counted: i64, limit: i64, page: Page, rows: usize) -> i64 {
    resolve(Some(counted), counted, limit, page, rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIRST: Page = Page { num: 1, size: 20 };

    #[test]
    fn a_bounded_count_is_exact_below_the_limit_and_at_least_the_limit_at_it() {
        assert_eq!(bounded(57, 10_000, FIRST, 20), 57);
        assert_eq!(bounded(10_000, 10_000, FIRST, 20), 10_000);
        let last = Page { num: 600, size: 20 };
        assert_eq!(bounded(10_000, 10_000, last, 7), 11_987);
    }

    #[test]
    fn below_the_limit_the_count_is_exact() {
        assert_eq!(resolve(Some(57), 60, 10_000, FIRST, 20), 57);
        assert_eq!(resolve(Some(0), -1, 10_000, FIRST, 0), 0);
    }

    #[test]
    fn at_the_limit_the_estimate_answers_but_never_below_the_limit() {
        assert_eq!(resolve(None, 1_000_123, 10_000, FIRST, 20), 1_000_123);
        assert_eq!(resolve(Some(10_000), -1, 10_000, FIRST, 20), 10_000);
        assert_eq!(resolve(Some(10_000), 9_000, 10_000, FIRST, 20), 10_000);
        assert_eq!(resolve(Some(10_000), 12_000, 10_000, FIRST, 20), 12_000);
    }

    #[test]
    fn past_the_limit_a_partial_page_is_the_exact_end() {
        let last = Page { num: 600, size: 20 };
        assert_eq!(resolve(None, 20_000, 10_000, last, 7), 11_987);
    }

    #[test]
    fn past_the_limit_the_total_reaches_at_least_the_page_shown() {
        let deep = Page {
            num: 1_000,
            size: 20,
        };
        assert_eq!(resolve(None, 15_000, 10_000, deep, 20), 20_000);
    }
}
