//! The shared transport: auth, retries, rate limits, pagination, errors.
