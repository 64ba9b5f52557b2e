// The web face: login (form and SCRAM), sessions, the password, the
// security mode, the audit and storage reports, the metrics token.
#include <spdlog/spdlog.h>

#include "model/snapshot_json.hpp"
#include "points/write_plan.hpp"
#include "web/assets.hpp"
#include "web/bdt.hpp"
#include "web/gui_parameters.hpp"
#include "web/http_parse.hpp"
#include "web/routes_gui.hpp"
#include "web/routes_internal.hpp"
#include "web/server.hpp"

namespace openbcpm::web {

using namespace route_util;

// --- Authentication ---

Reply WebServer::api_login(Context& c) {
    std::string user, password;
    if (c.json) {
        user = json_string(*c.json, "username").value_or("");
        password = json_string(*c.json, "password").value_or("");
    } else if (c.form) {
        user = field(*c.form, "username").value_or("");
        password = field(*c.form, "password").value_or("");
    }
    if (!c.connection.tls && !options_.allow_plain_http) {
        // Protected HTTP: the password never crosses plain HTTP.
        return error(c, http::status::forbidden,
                     "over plain HTTP the password is not sent: use the challenge login "
                     "(POST /api/login/challenge, then /api/login/proof) or https://");
    }
    if (user.empty() || user.size() > 64 || password.size() > 256) {
        return error(c, http::status::bad_request, "enter the user name and the password");
    }
    const int64_t now = unix_now();
    if (auto locked = login_locked(c, user, now)) return std::move(*locked);
    if (!c.verdict) {
        const User* known = users_.find(user);
        PasswordWork work{known ? known->hash : std::string(), password, {}};
        work.derive_scram = known && !known->scram_keys.valid();
        return ask_password_work(std::move(work));
    }
    if (!c.verdict->verified) {
        ++logins_failed_;
        const bool locked = throttle_.fail(user, now);
        audit_.add(user, c.connection.client, "login failed", locked ? "account locked" : "");
        return error(c, http::status::unauthorized, "wrong user name or password");
    }
    throttle_.succeed(user);
    if (c.verdict->scram_keys.valid()) {
        // An account from before protected HTTP: its challenge-login keys, now
        // that the password is at hand. The login goes on if they cannot be stored.
        try {
            users_.set_scram(user, c.verdict->scram_keys);
        } catch (const StoreError& e) {
            spdlog::warn("web: challenge-login keys of {} not stored: {}", user, e.what());
        }
    }
    Session* s = nullptr;
    const std::string token = sessions_.create(user, &s);
    c.session = s;
    audit(c, "login", c.connection.tls ? "https" : "http");
    return login_reply(c, user, token, s, nlohmann::json::object());
}

std::optional<Reply> WebServer::login_locked(Context& c, const std::string& user, int64_t now) {
    const int64_t left = throttle_.locked_for(user, now);
    if (!left) return std::nullopt;
    ++refused_;
    audit_.add(user, c.connection.client, "login refused", "account locked");
    Reply r = respond(c, http::status::too_many_requests,
                      {{"error", "too many failed logins: the account is locked for " +
                                     std::to_string(left) + " s"},
                       {"locked_seconds", left}});
    r.response.set(http::field::retry_after, std::to_string(left));
    return r;
}

Reply WebServer::login_reply(Context& c, const std::string& user, const std::string& token,
                             Session* s, nlohmann::json extra) {
    const User* u = users_.find(user);
    nlohmann::json body = {{"ok", true},
                           {"user", user},
                           {"csrf", s->csrf},
                           {"initial_password", u && u->initial},
                           {"next", security_.configured() ? "/" : "/security"}};
    body.update(extra);
    Reply r = respond(c, http::status::ok, body);
    std::string cookie = std::string(kCookie) + "=" + token +
                         "; Path=/; HttpOnly; SameSite=Strict; Max-Age=" +
                         std::to_string(sessions_.limits().absolute_seconds);
    if (c.connection.tls) cookie += "; Secure";
    r.response.set(http::field::set_cookie, cookie);
    return r;
}

// The challenge login (protected HTTP, docs/web.md): RFC 5802's exchange in
// JSON. Unknown names get a challenge too, with a salt of their own that
// stays the same, and fail at the proof like a wrong password.
Reply WebServer::api_login_challenge(Context& c) {
    const auto req = c.json ? scram::parse_challenge(*c.json) : std::nullopt;
    if (!req) {
        return error(c, http::status::bad_request,
                     "send the user name and a client nonce (16 to 128 printable characters, no "
                     "comma)");
    }
    const int64_t now = unix_now();
    if (auto locked = login_locked(c, req->username, now)) return std::move(*locked);
    const User* u = users_.find(req->username);
    const scram::Credentials keys =
        u && u->scram_keys.valid() ? u->scram_keys
                                   : scram::fake_credentials(users_.scram_secret(), req->username);
    const scram::Challenge& ch =
        challenges_.issue(req->username, req->client_nonce, keys.salt, keys.iterations, now);
    return respond(c, http::status::ok,
                   {{"salt", scram::base64_encode(ch.salt)},
                    {"iterations", ch.iterations},
                    {"nonce", ch.nonce}});
}

Reply WebServer::api_login_proof(Context& c) {
    const auto req = c.json ? scram::parse_proof(*c.json) : std::nullopt;
    if (!req) {
        return error(c, http::status::bad_request,
                     "send the user name, the challenge's nonce and the proof (base64)");
    }
    const int64_t now = unix_now();
    if (auto locked = login_locked(c, req->username, now)) return std::move(*locked);
    // Single use: taken whatever the outcome.
    const auto ch = challenges_.take(req->nonce, now);
    if (!ch || ch->user != req->username) {
        return respond(c, http::status::unauthorized,
                       {{"error", "the login challenge expired or was used already: log in again"},
                        {"retry", true}});
    }
    const User* u = users_.find(ch->user);
    const scram::Credentials keys = u && u->scram_keys.valid()
                                        ? u->scram_keys
                                        : scram::fake_credentials(users_.scram_secret(), ch->user);
    const std::string auth =
        scram::auth_message(ch->user, ch->client_nonce, ch->nonce, ch->salt, ch->iterations);
    auto verified = scram::verify_proof(keys, auth, req->proof);
    // A password changed since the challenge: its salt is another, so is the proof.
    if (keys.salt != ch->salt || keys.iterations != ch->iterations) verified.reset();
    if (!verified) {
        ++logins_failed_;
        const bool locked = throttle_.fail(ch->user, now);
        audit_.add(ch->user, c.connection.client, "login failed",
                   locked ? "account locked" : "challenge login");
        return error(c, http::status::unauthorized, "wrong user name or password");
    }
    throttle_.succeed(ch->user);
    Session* s = nullptr;
    const std::string token =
        sessions_.create(ch->user, &s, scram::session_key(verified->client_key, auth));
    c.session = s;
    audit(c, "login", c.connection.tls ? "https (challenge)" : "http (challenge)");
    return login_reply(c, ch->user, token, s,
                       {{"server_signature", scram::base64_encode(verified->server_signature)}});
}

// Protected HTTP: a change over plain HTTP carries X-Integrity and
// X-Integrity-Seq (web/scram.hpp); a tag that is sent is checked in every mode.
std::optional<Reply> WebServer::integrity_refusal(Context& c) {
    const std::string_view tag = sv(c.request["X-Integrity"]);
    const std::string_view seq = sv(c.request["X-Integrity-Seq"]);
    const bool required = security_.integrity_required() && !c.connection.tls;
    if (!required && tag.empty() && seq.empty()) return std::nullopt;
    const auto e =
        scram::check_integrity(c.session->key, c.session->seq, sv(c.request.method_string()),
                               sv(c.request.target()), c.request.body(), tag, seq);
    if (e == scram::IntegrityError::None) {
        sessions_.save();  // a restart must not make an old sequence number good again
        return std::nullopt;
    }
    audit(c, "refused",
          "integrity tag " + std::string(scram::to_string(e)) + " on " +
              std::string(c.request.method_string()) + " " + c.target.path);
    std::string message = "the request's integrity tag is wrong: nothing was changed";
    if (e == scram::IntegrityError::Missing)
        message = "this meter runs protected HTTP: a change needs an integrity tag (X-Integrity)";
    else if (e == scram::IntegrityError::NoKey)
        message = "this session has no integrity key: log in with the challenge login";
    else if (e == scram::IntegrityError::Replayed)
        message = "the request was replayed (its sequence number was used): nothing was changed";
    nlohmann::json body = {{"error", message}, {"integrity", scram::to_string(e)}};
    if (e == scram::IntegrityError::Replayed) body["last_seq"] = c.session->seq;
    ++refused_;
    return respond(c, http::status::forbidden, body);
}

Reply WebServer::api_logout(Context& c) {
    audit(c, "logout", "");
    sessions_.remove(c.token);
    Reply r = respond(c, http::status::ok, {{"ok", true}});
    r.response.set(http::field::set_cookie, std::string(kCookie) +
                                                "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0" +
                                                (c.connection.tls ? "; Secure" : ""));
    return r;
}

Reply WebServer::api_session(Context& c) {
    if (!c.session) return error(c, http::status::unauthorized, "log in first");
    const User* u = users_.find(c.session->user);
    const Settings& s = device_.settings();
    return respond(c, http::status::ok,
                   {{"user", c.session->user},
                    {"csrf", c.session->csrf},
                    {"initial_password", u && u->initial},
                    {"expires", std::min(c.session->last_seen + sessions_.limits().idle_seconds,
                                         c.session->created + sessions_.limits().absolute_seconds)},
                    {"security", to_string(security_.mode())},
                    {"integrity", security_.integrity_required() && !c.connection.tls},
                    {"session_key", !c.session->key.empty()},
                    {"model", s.model.model_name()},
                    {"serial_number", fmt::format("{:08X}", s.identity.serial_number)},
                    {"simulating", device_.simulating()},
                    {"site", device_.site() != nullptr}});
}

Reply WebServer::api_password(Context& c) {
    if (!c.session) return error(c, http::status::unauthorized, "log in first");
    // Protected HTTP: the passwords come sealed with the session key.
    std::optional<nlohmann::json> opened;
    if (c.json && c.json->contains("sealed")) {
        const auto box = scram::parse_sealed((*c.json)["sealed"]);
        const auto text = box && !c.session->key.empty()
                              ? scram::open(c.session->key, *box, scram::kPasswordAad)
                              : std::nullopt;
        if (text) opened = nlohmann::json::parse(*text, nullptr, false);
        if (!opened || !opened->is_object()) {
            audit(c, "password change refused", "sealed passwords not opened");
            return error(c, http::status::bad_request,
                         "the sealed passwords could not be opened: log in again");
        }
    } else if (!c.connection.tls && !options_.allow_plain_http) {
        return error(c, http::status::forbidden,
                     "over plain HTTP the passwords are sent sealed with the session key");
    }
    auto get = [&](const char* k) -> std::string {
        if (opened) return json_string(*opened, k).value_or("");
        if (c.json) return json_string(*c.json, k).value_or("");
        if (c.form) return field(*c.form, k).value_or("");
        return {};
    };
    const std::string current = get("current"), password = get("password"),
                      confirm = get("confirm");
    const std::string user = c.session->user;
    const int64_t now = unix_now();
    if (throttle_.locked_for(user, now))
        return error(c, http::status::too_many_requests, "too many failed attempts");
    // The new password's problems, told only once the current one is verified.
    std::optional<std::string> problem;
    if (password != confirm)
        problem = "the two new passwords differ";
    else if (auto why = password_problem(password, user))
        problem = std::move(why);
    else if (password == current)
        problem = "the new password must differ from the old";
    if (!c.verdict) {
        const User* u = users_.find(user);
        return ask_password_work(
            PasswordWork{u ? u->hash : std::string(), current, problem ? std::string() : password});
    }
    if (!c.verdict->verified) {
        throttle_.fail(user, now);
        audit(c, "password change refused", "wrong current password");
        return error(c, http::status::forbidden, "the current password is wrong");
    }
    if (problem) return error(c, http::status::bad_request, *problem);
    // Stored first: StoreError = 503, unchanged.
    users_.set_hash(user, c.verdict->new_hash, c.verdict->scram_keys);
    sessions_.remove_user(user, c.token);  // other sessions of this user end
    if (user == "admin") remove_initial_password();
    audit(c, "password changed", "");
    return respond(c, http::status::ok, {{"ok", true}, {"message", "The password was changed."}});
}

Reply WebServer::api_security_get(Context& c) {
    const CertificateInfo info = describe_certificate(security_.active_pair().certificate_pem);
    return respond(c, http::status::ok,
                   {{"mode", to_string(security_.mode())},
                    {"configured", security_.configured()},
                    {"own_certificate", security_.has_own_certificate()},
                    {"plain_http_allowed", options_.allow_plain_http},
                    {"certificate",
                     {{"subject", info.subject},
                      {"issuer", info.issuer},
                      {"not_before", info.not_before},
                      {"not_after", info.not_after},
                      {"sha256", info.sha256_fingerprint}}}});
}

Reply WebServer::api_security_set(Context& c) {
    std::string mode, certificate, key, passphrase;
    if (c.parts) {
        auto text = [&](const char* n) -> std::string {
            const Part* p = find_part(*c.parts, n);
            return p ? p->data : std::string();
        };
        mode = text("mode");
        certificate = text("certificate");
        key = text("private_key");
        passphrase = text("passphrase");
    } else if (c.json) {
        mode = json_string(*c.json, "mode").value_or("");
        certificate = json_string(*c.json, "certificate").value_or("");
        key = json_string(*c.json, "private_key").value_or("");
        passphrase = json_string(*c.json, "passphrase").value_or("");
    }
    auto m = security_mode_from_string(mode);
    if (!m || *m == SecurityMode::Unconfigured) {
        return error(c, http::status::bad_request,
                     std::string("choose a mode: https-own, https-self-signed or http-protected") +
                         (options_.allow_plain_http ? " (or http)" : ""));
    }
    if (*m == SecurityMode::Http && !options_.allow_plain_http) {
        audit(c, "security mode refused", "http");
        return error(c, http::status::bad_request,
                     "plain HTTP sends the password in clear and needs [web] allow_plain_http = "
                     "true in the configuration file; choose http-protected (HTTP with built-in "
                     "payload encryption)");
    }
    if (*m == SecurityMode::HttpsOwnCertificate) {
        try {
            security_.use_own_certificate(certificate, key, passphrase);
        } catch (const std::invalid_argument& e) {
            audit(c, "certificate refused", e.what());
            return error(c, http::status::bad_request,
                         std::string("The certificate was not accepted: ") + e.what() +
                             ". The previous certificate stays in use.");
        }
    } else if (*m == SecurityMode::HttpsSelfSigned) {
        security_.use_self_signed();
    } else if (*m == SecurityMode::HttpProtected) {
        security_.use_http_protected();
    } else {
        security_.use_http();
        spdlog::warn("web: plain HTTP chosen: passwords cross the network in clear");
    }
    audit(c, "security mode", std::string(to_string(*m)));
    const bool https = *m != SecurityMode::Http && *m != SecurityMode::HttpProtected;
    return respond(c, http::status::ok,
                   {{"ok", true},
                    {"mode", to_string(*m)},
                    {"redirect", own_origin(c.request, c.connection, https) + "/"}});
}

Reply WebServer::api_audit(Context& c) {
    size_t limit = 200;
    if (auto l = field(c.target.query, "limit"))
        limit = static_cast<size_t>(std::clamp(std::atoi(l->c_str()), 1, 1000));
    return respond(c, http::status::ok, {{"entries", audit_.to_json(limit, true)}});
}

Reply WebServer::api_storage(Context& c) {
    const StoreHealth h = device_.storage_health();
    nlohmann::json log = nlohmann::json::array();
    if (Store* st = device_.store()) {
        for (const LogEntry& e : st->load_log(50))
            log.push_back({{"time", e.wall_time}, {"kind", e.kind}, {"text", e.text}});
    }
    const std::string note = device_.storage_recovery().note();
    const nlohmann::json restored = note.empty() ? nlohmann::json(nullptr) : nlohmann::json(note);
    const nlohmann::json since = h.failing ? nlohmann::json(h.since) : nlohmann::json(nullptr);
    return respond(c, http::status::ok,
                   {{"stored", device_.store() != nullptr},
                    {"state", h.failing ? "failing" : "ok"},
                    {"since", since},
                    {"error", h.error},
                    {"writes_refused", h.failed},
                    {"events_waiting", device_.events_pending()},
                    {"events_unrecorded", device_.events_unrecorded()},
                    {"last_backup", h.last_backup},
                    {"backup_error", h.backup_error},
                    {"restored", restored},
                    {"log", log}});
}

Reply WebServer::api_metrics_token(Context& c) {
    if (c.request.method() != http::verb::post) {
        return respond(c, http::status::ok, {{"configured", metrics_token_hash_.has_value()}});
    }
    if (!c.session) return error(c, http::status::unauthorized, "log in first");
    const std::string token = random_hex(24);
    const std::string hash = sha256_hex(token);
    if (Store* st = device_.store()) st->save_text("web.metrics_token", hash);  // stored first
    metrics_token_hash_ = hash;
    audit(c, "read token created", "");
    return respond(c, http::status::ok, {{"token", token}});
}

}  // namespace openbcpm::web
