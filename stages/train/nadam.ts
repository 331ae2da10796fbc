/**
 * Nadam (Adam with Nesterov momentum) as Keras implements it; TensorFlow.js has none.
 *
 * Per step t (1-based), with the momentum schedule u_t = beta1 * (1 - 0.5 * 0.96^(0.004 t)):
 *   m = beta1 m + (1 - beta1) g            v = beta2 v + (1 - beta2) g^2
 *   P_t = u_1 ... u_t                      (the running product of the schedule)
 *   m_hat = u_{t+1} m / (1 - P_t u_{t+1}) + (1 - u_t) g / (1 - P_t)
 *   v_hat = v / (1 - beta2^t)
 *   var -= lr * m_hat / (sqrt(v_hat) + epsilon)
 * The step-dependent factors are computed in JavaScript doubles once per step; the
 * per-variable work is three multiply-adds, a square root and a divide.
 *
 * State: the step count and one `m` and `v` slot per variable, in the order the
 * variables are passed (as tf.AdamOptimizer keeps them), so `getWeights`/`setWeights`
 * move state between two builds of the same model even though variable names differ.
 */
import * as tf from "@tensorflow/tfjs";

export interface NadamArgs {
  readonly learningRate: number;
  readonly beta1?: number;
  readonly beta2?: number;
  readonly epsilon?: number;
}

/** A tensor with a name, as optimizers exchange their state (tfjs-core does not export the type). */
export interface NamedTensor {
  readonly name: string;
  readonly tensor: tf.Tensor;
}

interface Slot {
  readonly originalName: string;
  readonly variable: tf.Variable;
}

/** Keras's momentum schedule u_t. */
export function nadamMomentum(beta1: number, step: number): number {
  return beta1 * (1 - 0.5 * Math.pow(0.96, step * 0.004));
}

export class NadamOptimizer extends tf.Optimizer {
  static get className(): string {
    return "Nadam";
  }

  private learningRate: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  /** P_t after the steps taken so far (1 before the first step). */
  private momentumProduct = 1;
  private firstMoments: Slot[] = [];
  private secondMoments: Slot[] = [];

  constructor(args: NadamArgs) {
    super();
    this.learningRate = args.learningRate;
    this.beta1 = args.beta1 ?? 0.9;
    this.beta2 = args.beta2 ?? 0.999;
    this.epsilon = args.epsilon ?? 1e-7;
    for (const [key, value] of Object.entries({ learningRate: this.learningRate, epsilon: this.epsilon })) {
      if (!(value > 0) || !Number.isFinite(value)) throw new RangeError(`Nadam: ${key} must be a positive number, got ${value}`);
    }
    for (const [key, value] of Object.entries({ beta1: this.beta1, beta2: this.beta2 })) {
      if (!(value >= 0 && value < 1)) throw new RangeError(`Nadam: ${key} must be in [0, 1), got ${value}`);
    }
  }

  getLearningRate(): number {
    return this.learningRate;
  }

  setLearningRate(learningRate: number): void {
    this.learningRate = learningRate;
  }

  override applyGradients(variableGradients: tf.NamedTensorMap | NamedTensor[]): void {
    const entries: { name: string; tensor: tf.Tensor | null | undefined }[] = Array.isArray(variableGradients)
      ? variableGradients
      : Object.entries(variableGradients).map(([name, tensor]) => ({ name, tensor }));
    const step = this.iterations + 1;
    const u = nadamMomentum(this.beta1, step);
    const uNext = nadamMomentum(this.beta1, step + 1);
    const product = this.momentumProduct * u;
    const productNext = product * uNext;
    const momentumScale = uNext / (1 - productNext);
    const gradientScale = (1 - u) / (1 - product);
    const secondScale = 1 / (1 - Math.pow(this.beta2, step));
    const registered = tf.engine().registeredVariables;

    tf.tidy(() => {
      entries.forEach(({ name, tensor: gradient }, i) => {
        const variable = registered[name];
        if (variable === undefined) throw new Error(`Nadam: no variable named ${name}`);
        const m = this.slot(this.firstMoments, i, `${name}/m`, variable);
        const v = this.slot(this.secondMoments, i, `${name}/v`, variable);
        if (gradient == null) return;
        const newM = tf.add(tf.mul(m, this.beta1), tf.mul(gradient, 1 - this.beta1));
        const newV = tf.add(tf.mul(v, this.beta2), tf.mul(tf.square(gradient), 1 - this.beta2));
        m.assign(newM);
        v.assign(newV);
        const mHat = tf.add(tf.mul(newM, momentumScale), tf.mul(gradient, gradientScale));
        const denominator = tf.add(tf.sqrt(tf.mul(newV, secondScale)), this.epsilon);
        variable.assign(tf.sub(variable, tf.mul(tf.div(mHat, denominator), this.learningRate)));
      });
    });
    this.momentumProduct = product;
    this.incrementIterations();
  }

  override dispose(): void {
    super.dispose();
    tf.dispose([...this.firstMoments, ...this.secondMoments].map((slot) => slot.variable));
    this.firstMoments = [];
    this.secondMoments = [];
  }

  /** The step count, then every `m`, then every `v` (the order tf.AdamOptimizer uses). */
  override async getWeights(): Promise<NamedTensor[]> {
    const slots = [...this.firstMoments, ...this.secondMoments];
    return [await this.saveIterations(), ...slots.map((slot) => ({ name: slot.originalName, tensor: slot.variable }))];
  }

  override async setWeights(weightValues: NamedTensor[]): Promise<void> {
    const slots = await this.extractIterations(weightValues);
    if (slots.length % 2 !== 0) throw new Error(`Nadam: expected as many m as v slots, got ${slots.length} tensors`);
    tf.dispose([...this.firstMoments, ...this.secondMoments].map((slot) => slot.variable));
    const half = slots.length / 2;
    const toSlot = (value: NamedTensor): Slot => ({ originalName: value.name, variable: value.tensor.variable(false) });
    this.firstMoments = slots.slice(0, half).map(toSlot);
    this.secondMoments = slots.slice(half).map(toSlot);
    let product = 1;
    for (let step = 1; step <= this.iterations; step++) product *= nadamMomentum(this.beta1, step);
    this.momentumProduct = product;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { learningRate: this.learningRate, beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon };
  }

  static override fromConfig<T extends tf.serialization.Serializable>(
    cls: tf.serialization.SerializableConstructor<T>,
    config: tf.serialization.ConfigDict,
  ): T {
    return new cls({
      learningRate: config["learningRate"],
      beta1: config["beta1"],
      beta2: config["beta2"],
      epsilon: config["epsilon"],
    });
  }

  private slot(slots: Slot[], index: number, originalName: string, like: tf.Variable): tf.Variable {
    const existing = slots[index];
    if (existing !== undefined) return existing.variable;
    const variable = tf.tidy(() => tf.zerosLike(like).variable(false));
    slots[index] = { originalName, variable };
    return variable;
  }
}

tf.serialization.registerClass(NadamOptimizer);
