// Protected HTTP's pieces on their own (web/scram.hpp): the SCRAM-SHA-256
// math against RFC 7677's test vector, the strict codecs, the challenge table's
// single use, lifetime and bound, the integrity check (wrong tag, replay,
// missing tag: refused, the sequence number untouched) and the sealed box.
#include "web/scram.hpp"

#include <gtest/gtest.h>

#include <set>

#include "web/auth.hpp"

using namespace openbcpm::web;
using namespace openbcpm::web::scram;

namespace {

std::string b64(std::string_view s) {
    return base64_encode(s);
}
std::string unb64(std::string_view s) {
    auto d = base64_decode(s);
    EXPECT_TRUE(d.has_value()) << s;
    return d.value_or("");
}

}  // namespace

// RFC 7677 section 3: user "user", password "pencil".
TEST(Scram, Rfc7677TestVector) {
    const std::string client_nonce = "rOprNGfwEbeRWgbNEkqO";
    const std::string nonce = "rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
    const std::string salt = unb64("W22ZaJ0SNY7soEsUEjb6gQ==");
    const std::string auth = auth_message("user", client_nonce, nonce, salt, 4096);
    EXPECT_EQ(auth,
              "n=user,r=rOprNGfwEbeRWgbNEkqO,"
              "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,"
              "i=4096,c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0");
    const ClientFinal client = client_final("pencil", salt, 4096, auth);
    EXPECT_EQ(b64(client.proof), "dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=");
    EXPECT_EQ(b64(client.server_signature), "6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=");

    // The meter keeps only StoredKey and ServerKey, and verifies the same proof.
    const Credentials kept = derive("pencil", salt, 4096);
    ASSERT_TRUE(kept.valid());
    const auto verified = verify_proof(kept, auth, client.proof);
    ASSERT_TRUE(verified.has_value());
    EXPECT_EQ(b64(verified->server_signature), "6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=");
    EXPECT_EQ(verified->client_key, client.client_key);
    // Both ends derive the same session key; it is none of what crossed the wire.
    const std::string key = session_key(verified->client_key, auth);
    EXPECT_EQ(key, session_key(client.client_key, auth));
    EXPECT_EQ(key.size(), kKeyBytes);
    EXPECT_NE(key, client.proof);
    EXPECT_NE(key, client.server_signature);

    // Any other password, or a proof changed in one bit, is refused.
    EXPECT_FALSE(verify_proof(kept, auth, client_final("pencil2", salt, 4096, auth).proof));
    std::string flipped = client.proof;
    flipped[5] ^= 1;
    EXPECT_FALSE(verify_proof(kept, auth, flipped));
    EXPECT_FALSE(verify_proof(kept, auth, client.proof.substr(1)));
    // A proof for another exchange (another nonce) does not fit this one.
    const std::string other = auth_message("user", client_nonce, nonce + "x", salt, 4096);
    EXPECT_FALSE(verify_proof(kept, other, client.proof));
}

TEST(Scram, UserNamesAreEscapedAsRfc5802Says) {
    EXPECT_EQ(saslname("a=b,c"), "a=3Db=2Cc");
    EXPECT_EQ(auth_message("a,b", "cn", "cnsn", "s", 4096).substr(0, 12), "n=a=2Cb,r=cn");
}

TEST(Scram, CredentialsRoundTripAndRejectGarbage) {
    const Credentials c = generate("Panel-Board#2026");
    EXPECT_TRUE(c.valid());
    EXPECT_EQ(c.iterations, kIterations);
    EXPECT_EQ(c.salt.size(), kSaltBytes);
    const Credentials back = Credentials::from_json(c.to_json());
    EXPECT_EQ(back.salt, c.salt);
    EXPECT_EQ(back.stored_key, c.stored_key);
    EXPECT_EQ(back.server_key, c.server_key);
    EXPECT_EQ(back.iterations, c.iterations);
    // Two passwords set the same way differ in salt, so in keys.
    EXPECT_NE(generate("Panel-Board#2026").stored_key, c.stored_key);
    nlohmann::json j = c.to_json();
    j["iterations"] = 10;  // below RFC 7677's minimum
    EXPECT_FALSE(Credentials::from_json(j).valid());
    j = c.to_json();
    j["stored_key"] = "not base64!";
    EXPECT_FALSE(Credentials::from_json(j).valid());
    EXPECT_FALSE(Credentials::from_json(nlohmann::json::array()).valid());
}

TEST(Scram, FakeCredentialsAreStablePerNameAndSecret) {
    const std::string secret(32, 's');
    const Credentials a = fake_credentials(secret, "nobody");
    EXPECT_TRUE(a.valid());
    EXPECT_EQ(a.salt, fake_credentials(secret, "nobody").salt);
    EXPECT_NE(a.salt, fake_credentials(secret, "nobody2").salt);
    EXPECT_NE(a.salt, fake_credentials(std::string(32, 't'), "nobody").salt);
    EXPECT_EQ(a.iterations, kIterations);  // like a real account's
}

TEST(Scram, Base64IsStrict) {
    for (const std::string s : {"", "f", "fo", "foo", "foob", "fooba", "foobar"})
        EXPECT_EQ(base64_decode(base64_encode(s)), s);
    EXPECT_EQ(base64_encode("foobar"), "Zm9vYmFy");
    EXPECT_EQ(base64_encode("fo"), "Zm8=");
    for (const std::string bad :
         {"Zm8", "Zm8==", "Z===", "====", "Zm=8", "Zm9v\n", "Zm9v YmFy", "Zm9=YmFy", "Zm-_", "Zm9"})
        EXPECT_FALSE(base64_decode(bad).has_value()) << bad;
    // Non-canonical padding bits are refused (one encoding per value).
    EXPECT_FALSE(base64_decode("Zm9=").has_value());
    EXPECT_TRUE(base64_decode("Zm8=").has_value());
    EXPECT_EQ(unhex("00ff10"), std::string("\x00\xff\x10", 3));
    EXPECT_FALSE(unhex("0").has_value());
    EXPECT_FALSE(unhex("0G").has_value());
    EXPECT_FALSE(unhex("AB").has_value());  // lower case only, as sent
}

TEST(Scram, RequestsAreParsedStrictly) {
    const std::string nonce(24, 'n');
    auto ok = parse_challenge({{"username", "admin"}, {"client_nonce", nonce}});
    ASSERT_TRUE(ok);
    EXPECT_EQ(ok->username, "admin");
    EXPECT_FALSE(parse_challenge({{"username", "admin"}, {"client_nonce", "short"}}));
    EXPECT_FALSE(parse_challenge({{"username", "admin"}, {"client_nonce", std::string(129, 'n')}}));
    EXPECT_FALSE(parse_challenge({{"username", "admin"}, {"client_nonce", nonce + ","}}));
    EXPECT_FALSE(parse_challenge({{"username", "admin"}, {"client_nonce", nonce + " "}}));
    EXPECT_FALSE(parse_challenge({{"username", ""}, {"client_nonce", nonce}}));
    EXPECT_FALSE(parse_challenge({{"username", std::string(65, 'a')}, {"client_nonce", nonce}}));
    EXPECT_FALSE(parse_challenge({{"username", "a\nb"}, {"client_nonce", nonce}}));
    EXPECT_FALSE(parse_challenge({{"username", 1}, {"client_nonce", nonce}}));
    EXPECT_FALSE(parse_challenge(nlohmann::json::array()));

    const std::string proof = b64(std::string(32, 'p'));
    auto p = parse_proof({{"username", "admin"}, {"nonce", nonce}, {"proof", proof}});
    ASSERT_TRUE(p);
    EXPECT_EQ(p->proof, std::string(32, 'p'));
    EXPECT_FALSE(parse_proof({{"username", "admin"}, {"nonce", nonce}, {"proof", b64("short")}}));
    EXPECT_FALSE(parse_proof({{"username", "admin"}, {"nonce", nonce}, {"proof", "!!"}}));
    EXPECT_FALSE(parse_proof({{"username", "admin"}, {"proof", proof}}));

    auto box =
        parse_sealed({{"nonce", b64(std::string(12, 'n'))}, {"data", b64(std::string(20, 'd'))}});
    ASSERT_TRUE(box);
    EXPECT_FALSE(
        parse_sealed({{"nonce", b64(std::string(11, 'n'))}, {"data", b64(std::string(20, 'd'))}}));
    EXPECT_FALSE(
        parse_sealed({{"nonce", b64(std::string(12, 'n'))}, {"data", b64(std::string(15, 'd'))}}));
    EXPECT_FALSE(parse_sealed({{"nonce", b64(std::string(12, 'n'))},
                               {"data", b64(std::string(kMaxSealedBytes + 1, 'd'))}}));
    EXPECT_FALSE(parse_sealed("text"));
}

TEST(Scram, ChallengesAreSingleUseShortLivedAndBounded) {
    ChallengeTable table(4, 60);
    const Challenge first = table.issue("admin", std::string(20, 'c'), "salt-salt", 4096, 1000);
    EXPECT_EQ(first.nonce.rfind(std::string(20, 'c'), 0), 0u);  // starts with the client's
    EXPECT_EQ(first.nonce.size(), 20u + 24u);
    EXPECT_EQ(first.nonce.find(','), std::string::npos);
    // Single use.
    auto taken = table.take(first.nonce, 1001);
    ASSERT_TRUE(taken);
    EXPECT_EQ(taken->user, "admin");
    EXPECT_EQ(taken->salt, "salt-salt");
    EXPECT_FALSE(table.take(first.nonce, 1001));
    // Expired: gone, and taking it fails.
    const std::string late = table.issue("admin", std::string(20, 'd'), "s", 4096, 1000).nonce;
    EXPECT_FALSE(table.take(late, 1060));
    EXPECT_EQ(table.size(), 0u);
    // Bounded: the oldest goes.
    std::vector<std::string> nonces;
    for (int i = 0; i < 10; ++i)
        nonces.push_back(
            table.issue("u" + std::to_string(i), std::string(20, 'e'), "s", 4096, 2000 + i).nonce);
    EXPECT_EQ(table.size(), 4u);
    EXPECT_FALSE(table.take(nonces[0], 2010));
    EXPECT_FALSE(table.take(nonces[5], 2010));
    EXPECT_TRUE(table.take(nonces[9], 2010));
    // The server part is random: the same client nonce gets another nonce.
    std::set<std::string> distinct;
    for (int i = 0; i < 3; ++i)
        distinct.insert(table.issue("admin", std::string(20, 'f'), "s", 4096, 3000).nonce);
    EXPECT_EQ(distinct.size(), 3u);
    // Expired entries go as new ones come, without a take.
    ChallengeTable aging(100, 60);
    for (int i = 0; i < 50; ++i)
        aging.issue("admin", std::string(20, 'g'), "s", 4096, 1000);
    aging.issue("admin", std::string(20, 'g'), "s", 4096, 1061);
    EXPECT_EQ(aging.size(), 1u);
}

TEST(Scram, SequenceNumbersParseStrictly) {
    EXPECT_EQ(parse_seq("1"), 1u);
    EXPECT_EQ(parse_seq("9007199254740991"), kMaxSeq);
    for (const char* bad :
         {"", "0", "01", "-1", "+1", "1.0", " 1", "9007199254740992", "99999999999999999", "1a"})
        EXPECT_FALSE(parse_seq(bad).has_value()) << bad;
}

TEST(Scram, IntegrityRefusesWrongReplayedAndMissingTags) {
    const std::string key(32, 'k');
    const std::string body = R"({"name":"Modbus_Address","value":"9"})";
    uint64_t last = 0;
    auto check = [&](std::string_view k, std::string_view method, std::string_view target,
                     std::string_view b, const std::string& tag, const std::string& seq) {
        return check_integrity(k, last, method, target, b, tag, seq);
    };
    const std::string tag1 = integrity_tag(key, "POST", "/api/parameters", 1, body);
    EXPECT_EQ(tag1.size(), 64u);
    // Missing, malformed: refused, the sequence untouched.
    EXPECT_EQ(check(key, "POST", "/api/parameters", body, "", ""), IntegrityError::Missing);
    EXPECT_EQ(check(key, "POST", "/api/parameters", body, tag1, ""), IntegrityError::Malformed);
    EXPECT_EQ(check(key, "POST", "/api/parameters", body, "", "1"), IntegrityError::Malformed);
    EXPECT_EQ(check(key, "POST", "/api/parameters", body, tag1.substr(2), "1"),
              IntegrityError::Malformed);
    std::string upper = tag1;
    for (auto& ch : upper)
        ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    if (upper != tag1) {
        EXPECT_EQ(check(key, "POST", "/api/parameters", body, upper, "1"),
                  IntegrityError::Malformed);
    }
    // No key (a password-login session).
    EXPECT_EQ(check("", "POST", "/api/parameters", body, tag1, "1"), IntegrityError::NoKey);
    // Wrong: another key, method, target, body or sequence number than was tagged.
    EXPECT_EQ(check(std::string(32, 'j'), "POST", "/api/parameters", body, tag1, "1"),
              IntegrityError::Wrong);
    EXPECT_EQ(check(key, "PUT", "/api/parameters", body, tag1, "1"), IntegrityError::Wrong);
    EXPECT_EQ(check(key, "POST", "/api/restart", body, tag1, "1"), IntegrityError::Wrong);
    EXPECT_EQ(check(key, "POST", "/api/parameters?x=1", body, tag1, "1"), IntegrityError::Wrong);
    EXPECT_EQ(check(key, "POST", "/api/parameters", body + " ", tag1, "1"), IntegrityError::Wrong);
    EXPECT_EQ(check(key, "POST", "/api/parameters", body, tag1, "2"), IntegrityError::Wrong);
    EXPECT_EQ(last, 0u);
    // Right: accepted once.
    EXPECT_EQ(check(key, "POST", "/api/parameters", body, tag1, "1"), IntegrityError::None);
    EXPECT_EQ(last, 1u);
    EXPECT_EQ(check(key, "POST", "/api/parameters", body, tag1, "1"), IntegrityError::Replayed);
    // Gaps are fine (several tabs), going back is not.
    const std::string tag5 = integrity_tag(key, "POST", "/api/parameters", 5, body);
    EXPECT_EQ(check(key, "POST", "/api/parameters", body, tag5, "5"), IntegrityError::None);
    const std::string tag3 = integrity_tag(key, "POST", "/api/parameters", 3, body);
    EXPECT_EQ(check(key, "POST", "/api/parameters", body, tag3, "3"), IntegrityError::Replayed);
    EXPECT_EQ(last, 5u);
}

TEST(Scram, SealedPasswordsOpenOnlyWithTheSessionKey) {
    const std::string key(32, 'k');
    const std::string secret = R"({"current":"old","password":"Panel-Board#2026"})";
    const SealedBox box = seal(key, secret, kPasswordAad);
    EXPECT_EQ(box.nonce.size(), 12u);
    EXPECT_EQ(box.data.size(), secret.size() + 16);
    EXPECT_EQ(box.data.find("Panel-Board"), std::string::npos);
    EXPECT_EQ(open(key, box, kPasswordAad), secret);
    EXPECT_FALSE(open(std::string(32, 'j'), box, kPasswordAad));
    EXPECT_FALSE(open(key, box, "another purpose"));
    SealedBox tampered = box;
    tampered.data[3] ^= 1;
    EXPECT_FALSE(open(key, tampered, kPasswordAad));
    tampered = box;
    tampered.data.back() ^= 1;  // the tag
    EXPECT_FALSE(open(key, tampered, kPasswordAad));
    tampered = box;
    tampered.nonce[0] ^= 1;
    EXPECT_FALSE(open(key, tampered, kPasswordAad));
    EXPECT_FALSE(open("", box, kPasswordAad));
    // A fresh nonce every time.
    EXPECT_NE(seal(key, secret, kPasswordAad).nonce, box.nonce);
}

// The off-loop password work makes the challenge-login keys of a new password,
// and of a verified one when asked (accounts from before protected HTTP).
TEST(Scram, PasswordWorkDerivesChallengeLoginKeys) {
    const std::string hash = hash_password("Panel-Board#2026");
    PasswordVerdict v = run_password_work({hash, "Panel-Board#2026", "Panel-Board#2027", false});
    ASSERT_TRUE(v.verified);
    ASSERT_TRUE(v.scram_keys.valid());
    EXPECT_EQ(derive("Panel-Board#2027", v.scram_keys.salt, v.scram_keys.iterations).stored_key,
              v.scram_keys.stored_key);
    v = run_password_work({hash, "Panel-Board#2026", "", true});
    ASSERT_TRUE(v.scram_keys.valid());
    EXPECT_EQ(derive("Panel-Board#2026", v.scram_keys.salt, v.scram_keys.iterations).stored_key,
              v.scram_keys.stored_key);
    v = run_password_work({hash, "wrong", "", true});
    EXPECT_FALSE(v.verified);
    EXPECT_FALSE(v.scram_keys.valid());
}
