using System.Numerics;

namespace Kindling.Optim;

/// <summary>
/// What one stage keeps of one parameter between steps (optax's transform state), as a record you can see: the
/// buffers under PyTorch's state_dict names ("exp_avg", "momentum_buffer", ...), which <see cref="Optimizer.StateDict"/>
/// writes and <see cref="GradientTransform.Restore"/> reads back.
/// </summary>
public abstract record TransformState
{
    /// <summary>The buffers under their state_dict names, in the order PyTorch creates them.</summary>
    public abstract IEnumerable<KeyValuePair<string, Tensor>> Buffers { get; }

    /// <summary>A buffer's array (dense, from index 0).</summary>
    protected static T[] Data<T>(Tensor t) => (T[])t.Storage.Data;
}

/// <summary>
/// What a stage sees of one parameter's step: the parameter, the step count (from 1), the group's hyper-parameters, and
/// the divisor of the learning rate that the earlier stages returned (the product of their <see cref="StageOutput{T}.LrDivisor"/>).
/// </summary>
public readonly record struct StepContext(Tensor Param, long Step, double Lr, double WeightDecay, ParamGroup Group, double LrDivisor);

/// <summary>
/// One stage's work on one parameter for one step, block by block: it holds that step's scalars and buffers (no
/// transform keeps them in fields between calls). <paramref name="w"/> is the parameter from element
/// <paramref name="start"/>, <paramref name="u"/> the update direction there (rewritten in place), <paramref name="scratch"/>
/// free space of the same length.
/// </summary>
public delegate void BlockUpdate<T>(int start, Span<T> w, Span<T> u, Span<T> scratch);

/// <summary>
/// A stage's answer for one parameter and step (optax's <c>update</c> returns (updates, state)): its new state, the work
/// on the blocks (null: nothing this step, e.g. momentum 0), and a divisor of the learning rate — Adam's bias
/// correction 1 − β₁ᵗ, Adagrad's lr decay — which <see cref="ScaleByLearningRate"/> applies as lr / divisor, the step
/// size PyTorch computes (dividing the rate, not the update, is what keeps PyTorch's rounding).
/// </summary>
public readonly record struct StageOutput<T>(TransformState? State, BlockUpdate<T>? Update, double LrDivisor = 1);

/// <summary>
/// One stage of an optimizer's update (optax's GradientTransformation): <see cref="Init"/> gives a parameter's state
/// before its first step, <see cref="Update{T}"/> its new state and the step's work. Transforms hold only their
/// hyper-parameters. An optimizer is a chain of them (<see cref="ChainedOptimizer"/>): u starts as the gradient and each
/// stage's work runs on a block before the next's, so the floating-point operations happen in the stages' order (PyTorch's).
/// </summary>
public abstract class GradientTransform
{
    /// <summary>optax's <c>init</c> for one parameter (at its first step): the state, or null for a stage without one
    /// (or one that creates its state only when first needed, as PyTorch's SGD creates its momentum buffer).</summary>
    public virtual TransformState? Init(Tensor param) => null;

    /// <summary>The state held in a loaded state dict's buffers of one parameter (the inverse of <see cref="TransformState.Buffers"/>), or null.</summary>
    public virtual TransformState? Restore(IReadOnlyDictionary<string, Tensor> buffers, Tensor param) => null;

    /// <summary>Names of this stage's buffers that are scalars rather than shaped like the parameter (NAdam's mu_product).</summary>
    public virtual IEnumerable<string> ScalarBuffers => [];

    /// <summary>optax's <c>update</c> for one parameter and step.</summary>
    public abstract StageOutput<T> Update<T>(in StepContext ctx, TransformState? state) where T : unmanaged, IFloatingPointIeee754<T>;

    /// <summary>A zero buffer shaped like the parameter (filled with <paramref name="init"/>).</summary>
    protected static Tensor Zeros(Tensor param, double init = 0) => Tensor.Full(param.Shape, init, param.DType);
}
