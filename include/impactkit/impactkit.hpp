#pragma once
// impactkit — statistics for monitoring and evaluation of social programmes.
// Umbrella header: the public API, one header per concept (implementation details live in detail/).
#include "core/distributions.hpp"
#include "core/errors.hpp"
#include "core/fixed_effects.hpp"
#include "core/glm.hpp"
#include "core/groups.hpp"
#include "core/influence_vcov.hpp"
#include "core/least_squares.hpp"
#include "core/linear_model_vcov.hpp"
#include "core/ols.hpp"
#include "core/survey_design.hpp"
#include "core/threads.hpp"
#include "core/variance_conventions.hpp"
#include "core/vcov.hpp"
#include "core/wald.hpp"
#include "impact/iv.hpp"
#include "version.hpp"
