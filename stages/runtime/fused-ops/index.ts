/**
 * Fused and native TensorFlow ops for training on the tensorflow backend, installed when
 * it activates (backend.ts): training-mode batch norm as FusedBatchNormV3 /
 * FusedBatchNormGradV3; the ReLU6 layer as Relu6; the ReLU and ReLU6 gradients as
 * ReluGrad and Relu6Grad. Each falls back to tfjs's own path on other backends.
 */
import { installFusedBatchNormLayer, uninstallFusedBatchNormLayer } from "./batch-norm-layer.js";
import { installNativeRelu, uninstallNativeRelu } from "./native-relu.js";

export { fusedBatchNormInstalled } from "./batch-norm-layer.js";
export { fusedBatchNormTraining, registerFusedBatchNorm, type FusedBatchNormResult } from "./fused-batch-norm.js";

/** Installs every fused op; idempotent. */
export function installFusedOps(): void {
  installFusedBatchNormLayer();
  installNativeRelu();
}

/** Restores tfjs's own batch norm, ReLU layer and ReLU gradients (for comparisons and benchmarks). */
export function uninstallFusedOps(): void {
  uninstallFusedBatchNormLayer();
  uninstallNativeRelu();
}
