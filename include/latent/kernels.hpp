// latent/kernels.hpp - the kernel layer: ISA selection, pairwise kernels, the
// batched GEMM path with fused top-k and its bf16 / int8 counterpart. See the
// four headers for the contracts.
#pragma once

#include "latent/kernels/batched.hpp"
#include "latent/kernels/isa.hpp"
#include "latent/kernels/low_precision.hpp"
#include "latent/kernels/pairwise.hpp"
