#include "protocols/snmp/meter_face.hpp"

#include <spdlog/spdlog.h>

#include "protocols/snmp/snmp_face.hpp"

namespace openbcpm::snmp {

namespace {

class MeterSnmpFace final : public openbcpm::Face {
  public:
    MeterSnmpFace(boost::asio::io_context& io, openbcpm::MeterModel& device)
        : model_(device), view_(std::make_shared<meter::MeterView>(model_)) {
        SnmpFaceOptions options;
        options.views = {view_};
        options.capabilities = {
            {meter::oids::kModule,
             "The BCPME branch circuit power meter MIB (" + std::string(meter::kModuleName) + ")"}};
        options.before_request = [view = view_.get()] { view->refresh(); };
        options.take_ticket = [view = view_.get()] { return view->take_ticket(); };
        face_ = std::make_unique<SnmpFace>(io, device, std::move(options));
        // Events come from Device::poll on the event loop, while this face lives.
        events_ = device.subscribe([this](const EventRecord& e) { notify(e); });
    }
    ~MeterSnmpFace() override { stop(); }

    std::string name() const override { return face_->name(); }
    void start() override { face_->start(); }
    void stop() override { face_->stop(); }

  private:
    void notify(const EventRecord& e) {
        // A panel whose profile was removed in Locked mode has no rows, and no notifications.
        if (!model_.serves_panel(e.panel)) return;
        view_->refresh();
        const PanelEvents& events =
            view_->snapshot()
                .panel[static_cast<size_t>(std::clamp<int>(e.panel, 1, kMaxPanels) - 1)]
                .events;
        uint16_t status = 0;
        if (e.channel >= 1 && e.channel <= kChannelsPerPanel)
            status = events.status[static_cast<size_t>(e.channel - 1)];
        else if (e.channel > kChannelsPerPanel && e.channel <= kChannelsPerPanel + 3)
            status = events.voltage_status[static_cast<size_t>(e.channel - kChannelsPerPanel - 1)];
        const auto n = meter::event_notification(e, status);
        if (!n) {
            spdlog::debug("SNMP: no notification for an event of channel {}", int{e.channel});
            return;
        }
        face_->notify(n->trap_oid, n->varbinds);
    }

    DeviceModel model_;
    std::shared_ptr<meter::MeterView> view_;
    std::unique_ptr<SnmpFace> face_;
    openbcpm::MeterModel::Subscription events_;  // last: released before the rest
};

}  // namespace

std::unique_ptr<openbcpm::Face> make_meter_snmp_face(boost::asio::io_context& io,
                                                     openbcpm::MeterModel& device) {
    return std::make_unique<MeterSnmpFace>(io, device);
}

}  // namespace openbcpm::snmp
