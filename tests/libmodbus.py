"""Modbus TCP through Debian's libmodbus (libmodbus.so.5, via ctypes), for the
Python integration tests (tests/integration/write_path_test.py,
tests/fleet/fleet_test.py): a real client, not our own framing.

Register numbers are 1-based, as the point map prints them."""
import ctypes

_lib = ctypes.CDLL("libmodbus.so.5")
_lib.modbus_new_tcp.restype = ctypes.c_void_p
_lib.modbus_new_tcp.argtypes = [ctypes.c_char_p, ctypes.c_int]
_lib.modbus_connect.argtypes = [ctypes.c_void_p]
_lib.modbus_set_slave.argtypes = [ctypes.c_void_p, ctypes.c_int]
_lib.modbus_read_registers.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int,
                                       ctypes.POINTER(ctypes.c_uint16)]
_lib.modbus_write_register.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_uint16]
_lib.modbus_write_registers.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int,
                                        ctypes.POINTER(ctypes.c_uint16)]
_lib.modbus_set_response_timeout.argtypes = [ctypes.c_void_p, ctypes.c_uint32, ctypes.c_uint32]
_lib.modbus_close.argtypes = [ctypes.c_void_p]
_lib.modbus_free.argtypes = [ctypes.c_void_p]


class ModbusConnectError(ConnectionError, RuntimeError):
    """No connection (yet): a ConnectionError, and a RuntimeError as the tests' other failures."""


class Modbus:
    def __init__(self, host, port, unit=1):
        self.ctx = _lib.modbus_new_tcp(host.encode(), port)
        _lib.modbus_set_slave(self.ctx, unit)
        # 2 s, not libmodbus's 0.5 s: the ASan binary beside other tests, with a
        # fleet's start-up hashing going on, answered a read late once.
        _lib.modbus_set_response_timeout(self.ctx, 2, 0)
        if _lib.modbus_connect(self.ctx) != 0:
            _lib.modbus_free(self.ctx)
            raise ModbusConnectError(f"libmodbus: cannot connect to {host}:{port}")

    def read(self, reg, n=1):
        buf = (ctypes.c_uint16 * n)()
        if _lib.modbus_read_registers(self.ctx, reg - 1, n, buf) != n:
            raise RuntimeError(f"libmodbus: read of {reg} failed")
        return list(buf)

    def float(self, reg):
        msw, lsw = self.read(reg, 2)
        return ctypes.c_float.from_buffer_copy((lsw | msw << 16).to_bytes(4, "little")).value

    def write(self, reg, value):
        return _lib.modbus_write_register(self.ctx, reg - 1, value) == 1

    def write_many(self, reg, values):
        buf = (ctypes.c_uint16 * len(values))(*values)
        return _lib.modbus_write_registers(self.ctx, reg - 1, len(values), buf) == len(values)

    def close(self):
        _lib.modbus_close(self.ctx)
        _lib.modbus_free(self.ctx)
