#include "protocols/modbus/codec.hpp"

#include <gtest/gtest.h>

using namespace openbcpm::modbus;

TEST(ModbusCodec, DecodesReadsAndRefusesBadQuantities) {
    const uint8_t read[] = {0x03, 0x00, 0x05, 0x00, 0x7D};
    Decoded d = decode_request(read);
    ASSERT_TRUE(d.request);
    const auto& r = std::get<ReadRegisters>(*d.request);
    EXPECT_EQ(r.address, 5);
    EXPECT_EQ(r.quantity, 125);
    const uint8_t too_many[] = {0x04, 0x00, 0x00, 0x00, 0x7E};
    d = decode_request(too_many);
    EXPECT_FALSE(d.request);
    EXPECT_EQ(d.exception, ex::kIllegalDataValue);
    const uint8_t zero[] = {0x03, 0x00, 0x00, 0x00, 0x00};
    EXPECT_EQ(decode_request(zero).exception, ex::kIllegalDataValue);
    const uint8_t past_end[] = {0x03, 0xFF, 0xFF, 0x00, 0x02};
    EXPECT_EQ(decode_request(past_end).exception, ex::kIllegalDataAddress);
    const uint8_t short_pdu[] = {0x03, 0x00};
    EXPECT_EQ(decode_request(short_pdu).exception, ex::kIllegalDataValue);
}

TEST(ModbusCodec, UnsupportedFunctionsAreIllegal) {
    for (uint8_t f : {0x01, 0x02, 0x05, 0x0F, 0x16, 0x17, 0x7F}) {
        const uint8_t pdu[] = {f, 0, 0, 0, 1};
        EXPECT_EQ(decode_request(pdu).exception, ex::kIllegalFunction) << int(f);
    }
    const uint8_t mei_other[] = {0x2B, 0x0D, 0x01, 0x00};
    EXPECT_EQ(decode_request(mei_other).exception, ex::kIllegalFunction);
    const uint8_t bad_code[] = {0x2B, 0x0E, 0x05, 0x00};
    EXPECT_EQ(decode_request(bad_code).exception, ex::kIllegalDataValue);
}

TEST(ModbusCodec, WriteMultipleChecksByteCount) {
    const uint8_t ok[] = {0x10, 0x00, 0x06, 0x00, 0x02, 0x04, 0x00, 0x01, 0x00, 0x02};
    const Decoded d = decode_request(ok);
    ASSERT_TRUE(d.request);
    EXPECT_EQ(std::get<WriteMultiple>(*d.request).values, (std::vector<uint16_t>{1, 2}));
    const uint8_t wrong_count[] = {0x10, 0x00, 0x06, 0x00, 0x02, 0x03, 0x00, 0x01, 0x00};
    EXPECT_EQ(decode_request(wrong_count).exception, ex::kIllegalDataValue);
    const uint8_t truncated[] = {0x10, 0x00, 0x06, 0x00, 0x02, 0x04, 0x00, 0x01};
    EXPECT_EQ(decode_request(truncated).exception, ex::kIllegalDataValue);
}

TEST(ModbusCodec, ResponsesAreWellFormed) {
    const uint16_t regs[] = {0x1234, 0xABCD};
    EXPECT_EQ(read_response(0x03, regs),
              (std::vector<uint8_t>{0x03, 0x04, 0x12, 0x34, 0xAB, 0xCD}));
    EXPECT_EQ(exception_response(0x10, 0x02), (std::vector<uint8_t>{0x90, 0x02}));
    EXPECT_EQ(write_multiple_response(6, 2), (std::vector<uint8_t>{0x10, 0x00, 0x06, 0x00, 0x02}));
    const auto rsi = report_server_id_response(1, true, "abc");
    EXPECT_EQ(rsi, (std::vector<uint8_t>{0x11, 5, 1, 0xFF, 'a', 'b', 'c'}));
}

TEST(ModbusCodec, TcpFramingFollowsTheMbapLength) {
    const std::vector<uint8_t> adu{0x00, 0x07, 0x00, 0x00, 0x00, 0x06,
                                   0x01, 0x03, 0x00, 0x00, 0x00, 0x01};
    size_t n = 0;
    EXPECT_EQ(tcp_frame(std::span(adu).first(5), n), FrameStatus::NeedMore);
    EXPECT_EQ(tcp_frame(std::span(adu).first(10), n), FrameStatus::NeedMore);
    EXPECT_EQ(tcp_frame(adu, n), FrameStatus::Complete);
    EXPECT_EQ(n, adu.size());
    const MbapHeader h = decode_mbap(adu);
    EXPECT_EQ(h.transaction, 7);
    EXPECT_EQ(h.unit, 1);
    const std::vector<uint8_t> bad{0, 0, 0, 0, 0x01, 0x00, 1};  // length 256
    EXPECT_EQ(tcp_frame(bad, n), FrameStatus::Invalid);
    const uint8_t pdu[] = {0x83, 0x02};
    EXPECT_EQ(tcp_adu(h, pdu),
              (std::vector<uint8_t>{0x00, 0x07, 0x00, 0x00, 0x00, 0x03, 0x01, 0x83, 0x02}));
}

TEST(ModbusCodec, RtuCrcOfTheSpecificationExample) {
    // Modbus over serial line V1.02, appendix: 02 07 -> CRC 41 12 (low byte first).
    const uint8_t frame[] = {0x02, 0x07};
    EXPECT_EQ(crc16(frame), 0x1241);
    const uint8_t pdu[] = {0x03, 0x00, 0x00, 0x00, 0x0A};
    const auto adu = rtu_adu(0x01, pdu);
    EXPECT_EQ(adu, (std::vector<uint8_t>{0x01, 0x03, 0x00, 0x00, 0x00, 0x0A, 0xC5, 0xCD}));
    const auto decoded = decode_rtu(adu);
    ASSERT_TRUE(decoded);
    EXPECT_EQ(decoded->address, 1);
    EXPECT_EQ(decoded->pdu.size(), 5u);
    auto damaged = adu;
    damaged[3] ^= 0x01;
    EXPECT_FALSE(decode_rtu(damaged));
    EXPECT_FALSE(decode_rtu(std::span(adu).first(3)));
}

TEST(ModbusCodec, DeviceIdentificationStreamsWithMoreFollows) {
    std::vector<DeviceIdObject> objects;
    for (uint8_t i = 0; i < 8; ++i)
        objects.push_back({i, std::string(60, 'x')});
    const auto r = device_id_response(3, 0x83, objects);
    EXPECT_LE(r.size(), kMaxPdu);
    EXPECT_EQ(r[4], 0xFF);  // more follows
    EXPECT_EQ(r[6], 3);     // three objects fitted
    EXPECT_EQ(r[5], 3);     // next object id
}
