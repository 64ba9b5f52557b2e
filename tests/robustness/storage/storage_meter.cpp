#include "storage_meter.hpp"

#include <gtest/gtest.h>
#include <modbus/modbus.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <sstream>
#include <thread>

namespace openbcpm::test {

namespace {

const char* kDemandOid = ".1.3.6.1.4.1.3833.1.30.1.1.6.3.2.0";  // p1DemandSubintervals.0

std::string config_text(int modbus, int snmp, int bacnet, int web, const std::string& extra) {
    std::ostringstream c;
    c << "[device]\nchannels = 42\n"
      << "[gateway]\nprotocol_mode = 2\n"
      << "[network]\nip_address = \"127.0.0.1\"\n"
      << "[faces]\nmodbus_tcp = true\nbacnet_ip = true\nsnmp = true\nweb = true\n"
      << "[modbus]\ntcp_port = " << modbus << "\n"
      << "[snmp]\nport = " << snmp << "\nnotif_port = " << free_udp_port() << "\n"
      << "[bacnet]\nip_port = " << bacnet << "\n"
      << "[web]\nport = " << web << "\nallow_plain_http = true\n"
      << "[storage]\ncheckpoint_ms = 200\n"
      << "[[simulation.load]]\npanel = 1\nchannels = [1, 3, 5]\namps = 10.0\npf = 1.0\n"
      << extra;
    return c.str();
}

std::string run_output(const std::vector<std::string>& args, const std::filesystem::path& scratch,
                       int* status = nullptr) {
    std::string out;
    const int s = run(args, &out, scratch);
    if (status) *status = s;
    return out;
}

}  // namespace

int free_udp_port() {
    const int s = socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
    close(s);
    return ntohs(a.sin_port);
}

StorageMeter::StorageMeter(const std::filesystem::path& scratch, const std::filesystem::path& state,
                           const std::string& extra_config)
    : scratch_(scratch),
      state_(state),
      modbus_port_(free_tcp_port()),
      snmp_port_(free_udp_port()),
      bacnet_port_(free_udp_port()),
      web_port_(free_tcp_port()) {
    // net-snmp's tools: no user or system configuration, no MIB loading.
    setenv("SNMP_PERSISTENT_DIR", (scratch_ / "snmp").c_str(), 1);
    setenv("SNMPCONFPATH", scratch_.c_str(), 1);
    setenv("MIBS", "", 1);
    std::filesystem::create_directories(scratch_ / "snmp" / "cert_indexes");
    const auto config = scratch_ / "meter.toml";
    std::ofstream(config) << config_text(modbus_port_, snmp_port_, bacnet_port_, web_port_,
                                         extra_config);
    process_ = std::make_unique<Process>(
        std::vector<std::string>{binary(), "run", "--config", config.string(), "--state-dir",
                                 state_.string()},
        (scratch_ / "meter.log").string());
    // Every face says it listens (each line as the meter logs it); a line
    // that never comes is a failure, not a minute of waiting.
    const char* kStarted[] = {"Modbus TCP on", "bacnet-ip started", "SNMP agent on",
                              "web: listening on"};
    auto started = [&] {
        const std::string text = log();
        for (const char* line : kStarted) {
            if (text.find(line) == std::string::npos) return false;
        }
        return true;
    };
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < deadline && alive() && !started())
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (!alive() || !started()) {
        ADD_FAILURE() << "the meter did not start every face:\n" << log();
        return;
    }
    modbus_ = modbus_new_tcp("127.0.0.1", modbus_port_);
    modbus_set_response_timeout(modbus_, 3, 0);
    for (int i = 0; i < 100 && modbus_connect(modbus_) != 0; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    modbus_set_slave(modbus_, 1);
    // The web: log in with the label password over plain HTTP (allowed by
    // [web] allow_plain_http above), and choose plain HTTP as the mode.
    std::string password;
    std::ifstream(state_ / "initial-admin-password") >> password;
    web_ = std::make_unique<WebSession>(web_port_, password);
    if (!web_->logged_in()) return;
    const HttpReply mode = web_->post("/api/security", {{"mode", "http"}});
    EXPECT_EQ(mode.status, 200u) << mode.body;
    ready_ = mode.status == 200;
}

StorageMeter::~StorageMeter() {
    if (modbus_) {
        modbus_close(modbus_);
        modbus_free(modbus_);
    }
}

bool StorageMeter::alive() {
    int st = 0;
    return process_ && process_->pid() > 0 && waitpid(process_->pid(), &st, WNOHANG) == 0;
}

std::string StorageMeter::log() const {
    return read_file(scratch_ / "meter.log");
}

int StorageMeter::stop() {
    process_->signal(SIGTERM);
    return process_->wait();
}

int StorageMeter::modbus_write(int reg, std::initializer_list<uint16_t> values) {
    const std::vector<uint16_t> v(values);
    errno = 0;
    const int rc = v.size() == 1 ? modbus_write_register(modbus_, reg - 1, v[0])
                                 : modbus_write_registers(modbus_, reg - 1,
                                                          static_cast<int>(v.size()), v.data());
    if (rc >= 0) return 0;
    if (errno > MODBUS_ENOBASE && errno < MODBUS_ENOBASE + 12) return errno - MODBUS_ENOBASE;
    return -1;
}

std::optional<uint16_t> StorageMeter::modbus_read(int reg) {
    uint16_t v = 0;
    if (modbus_read_registers(modbus_, reg - 1, 1, &v) != 1) return std::nullopt;
    return v;
}

std::string StorageMeter::snmp_set(int value) {
    return run_output(
        {"/usr/bin/snmpset", "-v2c", "-c", "private", "-t", "3", "-r", "0",
         "127.0.0.1:" + std::to_string(snmp_port_), kDemandOid, "i", std::to_string(value)},
        scratch_);
}

std::optional<int> StorageMeter::snmp_get() {
    int status = 0;
    const std::string out =
        run_output({"/usr/bin/snmpget", "-v2c", "-c", "public", "-t", "3", "-r", "0", "-Oqv",
                    "127.0.0.1:" + std::to_string(snmp_port_), kDemandOid},
                   scratch_, &status);
    if (status != 0) return std::nullopt;
    try {
        return std::stoi(out);
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

namespace {
nlohmann::json bacnet(const std::filesystem::path& scratch, int meter_port,
                      const std::vector<std::string>& op) {
    std::vector<std::string> args = {OPENBCPM_NODE,
                                     OPENBCPM_BACNET_CLIENT,
                                     std::to_string(meter_port),
                                     std::to_string(free_udp_port()),
                                     "50",
                                     "1"};
    args.insert(args.end(), op.begin(), op.end());
    const std::string out = run_output(args, scratch);
    auto j = nlohmann::json::parse(
        out.substr(out.rfind('{') == std::string::npos ? 0 : out.rfind('{')), nullptr, false);
    if (j.is_discarded()) return {{"ok", false}, {"error", "no answer: " + out}};
    return j;
}
}  // namespace

std::string StorageMeter::bacnet_write(double value) {
    const auto j = bacnet(scratch_, bacnet_port_, {"write", "2", std::to_string(value)});
    return j.value("ok", false) ? std::string() : j.value("error", std::string("?"));
}

std::optional<double> StorageMeter::bacnet_read() {
    const auto j = bacnet(scratch_, bacnet_port_, {"read", "2"});
    if (!j.value("ok", false) || !j.contains("value") || !j["value"].is_number())
        return std::nullopt;
    return j["value"].get<double>();
}

HttpReply StorageMeter::web_settings(int value) {
    return web_->post("/api/settings", {{"settings", {{"panel.1.demand_subintervals", value}}}});
}

std::optional<int> StorageMeter::web_read() {
    const HttpReply r = web_->get("/api/settings?prefix=panel.1.demand_subintervals");
    const auto j = r.json();
    if (r.status != 200 || !j.contains("settings") || j["settings"].empty()) return std::nullopt;
    return j["settings"][0].value("value", -1);
}

HttpReply StorageMeter::web_get(const std::string& target) {
    return web_->get(target);
}

HttpReply StorageMeter::web_post(const std::string& target, const nlohmann::json& body) {
    return web_->post(target, body);
}

}  // namespace openbcpm::test
