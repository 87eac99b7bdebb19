//! Local emulator of Movius, the carrier and Zoom, served over HTTP on loopback.
