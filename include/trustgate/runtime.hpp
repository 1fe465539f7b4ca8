// trustgate/runtime.hpp — everything in the runtime component (trustgate::runtime): what
// makes a gateway deployable around the decision kernel.
//
//   config_json.hpp      behaviour §9's configuration file read strictly (JSON5, OpenClaw's
//                        spellings, JSON paths in every error)
//   secrets.hpp          SecretRefs and the env, file and exec providers that resolve them
//   compiled_config.hpp  a configuration turned into a ready gateway (mode selection)
//   reloader.hpp         the reloadable gateway: parse, validate, resolve, atomic swap
//   audit_log.hpp        audit lines, one JSON object per line
//   security_audit.hpp   the start-up security audit's findings
//   http_answer.hpp      decisions as HTTP answers (401, 403, 429 and their headers)
//   policy_settings.hpp  policies of your own with settings at gateway.policies.<key>
//   jwks_fetch.hpp       behaviour §10's jwksUrl fetched through the egress rules
//   explain.hpp          one raw request decided and explained per policy, without serving
//   listener.hpp         the Beast listener a configuration describes, TLS files reloaded
//   start_signals.hpp    SIGHUP, SIGINT and SIGTERM caught from the first line of main
//   redis_connector.hpp  (not included here: needs trustgate::redis) the Redis limiter store
#pragma once

#include "trustgate/runtime/audit_log.hpp"
#include "trustgate/runtime/compiled_config.hpp"
#include "trustgate/runtime/config_json.hpp"
#include "trustgate/runtime/explain.hpp"
#include "trustgate/runtime/http_answer.hpp"
#include "trustgate/runtime/listener.hpp"
#include "trustgate/runtime/jwks_fetch.hpp"
#include "trustgate/runtime/policy_settings.hpp"
#include "trustgate/runtime/reloader.hpp"
#include "trustgate/runtime/secrets.hpp"
#include "trustgate/runtime/security_audit.hpp"
#include "trustgate/runtime/start_signals.hpp"
