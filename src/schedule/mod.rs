//! When each type is published: per-type cadences (interval or cron) over an injected clock.
