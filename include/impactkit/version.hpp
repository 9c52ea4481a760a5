#pragma once
#define IMPACTKIT_VERSION_MAJOR 0
#define IMPACTKIT_VERSION_MINOR 1
#define IMPACTKIT_VERSION_PATCH 0
namespace impactkit {
inline constexpr const char* version = "0.1.0";
}
