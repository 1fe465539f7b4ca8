// Consumes trustgate::redis: a store is made and asked about a client while no Redis
// listens (port 1), so it must answer "unavailable" at once, without waiting: hiredis
// reaches this program only through the component.
#include <trustgate/redis/store.hpp>

int main() {
    trustgate::rate_limit_config limits;
    trustgate::redis::store_options options;
    options.port = 1;
    trustgate::redis::store store(limits, options, nullptr, nullptr);
    const auto verdict = store.attempt(*trustgate::net::address::parse("192.0.2.1"), false);
    return verdict.what == trustgate::attempt_verdict::status::unavailable ? 0 : 1;
}
