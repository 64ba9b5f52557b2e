// The protocol faces of one meter on the shared event loop: which run is
// decided by Protocol_Mode (as the guide's table says) and the [faces] config.
#pragma once

#include <boost/asio/io_context.hpp>
#include <memory>
#include <string>
#include <vector>

#include "device/device.hpp"
#include "model/face.hpp"

namespace openbcpm {

class Faces {
  public:
    Faces(boost::asio::io_context& io, Device& device);
    ~Faces();
    void start();
    void stop();
    const std::vector<std::unique_ptr<Face>>& faces() const { return faces_; }

  private:
    boost::asio::io_context& io_;
    Device& device_;
    std::vector<std::unique_ptr<Face>> faces_;
};

}  // namespace openbcpm
