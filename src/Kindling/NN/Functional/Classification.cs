using System.Numerics;
using Kindling.Kernels;

namespace Kindling.NN;

/// <summary>
/// The functional layer (PyTorch's <c>torch.nn.functional</c>): every loss with all its logic and validation. The loss
/// modules in <c>Kindling.NN</c> only hold options and call these.
/// </summary>
public static partial class Functional
{
    /// <summary>
    /// Cross-entropy between logits and class indices or class probabilities (PyTorch's <c>F.cross_entropy</c>).
    /// <para>Unreduced, with class-index targets: ℓₙ = −w[yₙ]·log softmax(xₙ)[yₙ] (0 where yₙ = ignoreIndex); with label
    /// smoothing ε: ℓₙ = (1−ε)·w[yₙ]·(lse − x[yₙ]) + ε/C·Σ_c w[c]·(lse − x[c]). With probability targets p (same shape
    /// as the input): ℓₙ = −Σ_c w[c]·p̃[c]·log softmax(xₙ)[c], p̃ = (1−ε)p + ε/C.</para>
    /// <para>Reduction: Mean divides the sum by Σ w[yₙ] over non-ignored targets (NaN when every target is ignored, as in
    /// PyTorch, with zero gradients); with probability targets it divides by the number of samples. Sum adds; None keeps ℓ.</para>
    /// <para>Shapes: input (N, C), (C) unbatched, or (N, C, d1, …, dK); target (N) / () / (N, d1, …, dK) int64 class
    /// indices, or float probabilities of the input's shape. weight: (C), default none.</para>
    /// <para>Runs as one fused autograd node for class-index targets: one pass forward, one pass backward, with the
    /// maximum subtracted before exponentiating so logits of ±1e4 and −inf entries give finite results.</para>
    /// <para>Differs from PyTorch: a negative labelSmoothing is rejected (PyTorch silently treats it as 0); a one-column
    /// input with 0/1 labels gets an error that points to BCEWithLogitsLoss.</para>
    /// </summary>
    /// <param name="input">Unnormalised logits.</param>
    /// <param name="target">Class indices (int64) or class probabilities (float, same shape as input).</param>
    /// <param name="weight">Optional per-class rescaling weight of length C.</param>
    /// <param name="ignoreIndex">Class-index target value that contributes nothing (default −100).</param>
    /// <param name="reduction">None, Mean (default) or Sum.</param>
    /// <param name="labelSmoothing">ε in [0, 1] (default 0).</param>
    public static Tensor CrossEntropy(Tensor input, Tensor target, Tensor? weight = null, long ignoreIndex = -100,
        Reduction reduction = Reduction.Mean, double labelSmoothing = 0.0)
    {
        const string L = "cross_entropy";
        LossCheck.Reduction(L, reduction);
        LossCheck.Float(L, "input", input);
        if (!(labelSmoothing >= 0 && labelSmoothing <= 1))
            throw new ArgumentOutOfRangeException(nameof(labelSmoothing), labelSmoothing, $"{L}: label_smoothing must be between 0.0 and 1.0, got {labelSmoothing}.");
        int c = ClassCount(L, input);
        var w = CheckWeight(L, weight, c, input);
        if (target.IsFloatingPoint && target.Dims.AsSpan().SequenceEqual(input.Dims))
        {
            if (ignoreIndex >= 0) throw new ArgumentException($"{L}: ignore_index ({ignoreIndex}) is not supported with probability targets; zero the rows out of the target instead.", nameof(ignoreIndex));
            return CrossEntropyProbabilities(input, target, w, reduction, labelSmoothing, c);
        }
        var (x2, tgt, outShape) = ClassLayout(L, input, target, ignoreIndex, c);
        return input.DType == DType.Float32
            ? CrossEntropyFused<float>(x2, tgt, w, ignoreIndex, reduction, labelSmoothing, outShape)
            : CrossEntropyFused<double>(x2, tgt, w, ignoreIndex, reduction, labelSmoothing, outShape);
    }

    private static Tensor CrossEntropyProbabilities(Tensor input, Tensor target, Tensor? w, Reduction reduction, double eps, int c)
    {
        int classDim = input.Rank == 1 ? 0 : 1;
        var logp = input.LogSoftmax(classDim);
        var p = eps > 0 ? target * (1 - eps) + eps / c : target;
        var prod = logp * p;
        if (w != null) prod = prod * ClassBroadcast(w, input.Rank);
        var each = -prod.Sum(classDim);
        return reduction switch
        {
            Reduction.None => each,
            Reduction.Sum => each.Sum(),
            _ => each.Sum() / (input.NumEl / Math.Max(c, 1)),
        };
    }

    /// <summary>Reshapes a (C) weight to broadcast along the class dimension 1 (or 0 for unbatched input).</summary>
    private static Tensor ClassBroadcast(Tensor w, int rank)
    {
        if (rank <= 2) return w;
        var shape = Enumerable.Repeat(1, rank).ToArray();
        shape[1] = w.NumEl;
        return w.Reshape(shape);
    }

    private static int ClassCount(string loss, Tensor input)
    {
        if (input.Rank == 0) throw new ArgumentException($"{loss}: input must have a class dimension: (C), (N, C) or (N, C, d1, ...), got a scalar.", nameof(input));
        return input.Rank == 1 ? input.Dims[0] : input.Dims[1];
    }

    private static Tensor? CheckWeight(string loss, Tensor? weight, int c, Tensor input)
    {
        if (weight == null) return null;
        LossCheck.Float(loss, "weight", weight);
        if (weight.Rank != 1 || weight.Dims[0] != c)
            throw new ArgumentException($"{loss}: weight must be 1-D with one entry per class ({c}), got shape {weight.ShapeString}.", nameof(weight));
        return weight.Detach().To(input.DType);
    }

    /// <summary>
    /// Validates class-index targets and flattens the input to (rows, C) with the class dimension last, which is what the
    /// fused kernels read. Returns the rows, the targets and the shape of the unreduced loss.
    /// </summary>
    private static (Tensor x2, long[] tgt, int[] outShape) ClassLayout(string loss, Tensor input, Tensor target, long ignoreIndex, int c)
    {
        int[] expected = input.Rank == 1 ? [] : input.Dims.Where((_, i) => i != 1).ToArray();
        if (target.IsFloatingPoint)
        {
            if (target.Dims.AsSpan().SequenceEqual(expected))
                throw new ArgumentException($"{loss}: class-index targets must be int64, got {Tensor.DTypeName(target.DType)} {target.ShapeString}; convert with target.ToInt64(), or pass class probabilities of the input's shape {input.ShapeString}.", nameof(target));
            throw new ArgumentException($"{loss}: probability targets must have the input's shape {input.ShapeString}, got {target.ShapeString}; class-index targets (int64) would have shape {Tensor.ShapeStr(expected)}.", nameof(target));
        }
        if (target.DType != DType.Int64)
            throw new ArgumentException($"{loss}: target must be int64 class indices or float probabilities, got {Tensor.DTypeName(target.DType)}.", nameof(target));
        if (!target.Dims.AsSpan().SequenceEqual(expected))
        {
            if (input.Rank >= 2 && target.Rank >= 1 && target.Dims[0] != input.Dims[0])
                throw new ArgumentException($"{loss}: input batch size {input.Dims[0]} does not match target batch size {target.Dims[0]} (input {input.ShapeString}, target {target.ShapeString}).", nameof(target));
            throw new ArgumentException($"{loss}: input {input.ShapeString} needs class-index targets of shape {Tensor.ShapeStr(expected)}, got {target.ShapeString}.", nameof(target));
        }
        var tgt = target.DenseData<long>();
        foreach (var t in tgt)
        {
            if (t == ignoreIndex || (t >= 0 && t < c)) continue;
            // long.MinValue marks a loss without ignore_index (multi_margin_loss): do not offer one.
            string msg = $"{loss}: target {t} is out of range for {c} classes (valid: 0..{c - 1}{(ignoreIndex == long.MinValue ? "" : $", or ignore_index {ignoreIndex}")}).";
            if (c == 1 && tgt.All(v => v == 0 || v == 1 || v == ignoreIndex))
                msg += " The input has a single output column and the labels are 0/1: that is binary classification, which wants one logit with BCEWithLogitsLoss (Functional.BinaryCrossEntropyWithLogits, float targets of shape (N, 1)) — or give the model 2 outputs to keep CrossEntropyLoss.";
            else if (t < 0) msg += " Negative labels are only allowed as ignore_index.";
            else if (t == c) msg += " Labels look 1-based; subtract 1 so they run from 0.";
            throw new ArgumentOutOfRangeException(nameof(target), t, msg);
        }
        Tensor x2 = input.Rank switch
        {
            1 => input.Unsqueeze(0),
            2 => input,
            _ => input.Movedim(1, -1).Reshape(-1, c),
        };
        return (x2.Contiguous(), tgt, expected);
    }

    /// <summary>
    /// What the fused cross-entropy's backward reads (its row of the derivative table): the dense logits (n, c), targets,
    /// class weights, options, the forward's row statistics (pooled, returned with the graph), the reduction's
    /// denominator — and the gradient speculatively computed in the forward, handed over once if the upstream is 1.
    /// </summary>
    private sealed record CrossEntropySaved<T>(T[] Logits, int N, int C, long[] Targets, T[]? Weight, long Ignore, double Eps,
        T[] RowMax, T[] InvSum, Reduction Reduction, double Denom)
    {
        public T[]? Early;
    }

    private static Tensor CrossEntropyFused<T>(Tensor x2, long[] tgt, Tensor? weight, long ignore, Reduction reduction, double eps, int[] outShape)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = x2.Dims[0], c = x2.Dims[1];
        var xa = x2.DenseData<T>();
        var w = weight?.DenseData<T>();
        // The kernel writes every element of these, so pooled buffers need no clearing. loss and rowW are done with
        // once reduced (ReduceRows copies); rowMax and invSum belong to the backward closure and return with the graph.
        var loss = BufferPool.Rent<double>(n);
        var rowMax = BufferPool.Rent<T>(n);
        var invSum = BufferPool.Rent<T>(n);
        var rowW = BufferPool.Rent<double>(n);
        // A reduced loss that will be differentiated usually gets upstream gradient 1, so its gradient is known in the
        // forward: computing it there reads the logits once and exponentiates once (bit-identical to the backward's).
        T[]? early = null;
        if (reduction != Reduction.None && x2.RequiresGrad && Autograd.IsGradEnabled)
        {
            double d0 = 0; // Σ w[t] over kept rows, in the order the forward's rowW sums below
            if (reduction == Reduction.Mean) foreach (var t in tgt) d0 += t == ignore ? 0 : w == null ? 1 : double.CreateTruncating(w[t]);
            var scale1 = RowScales(1.0, reduction, n, d0, tgt, ignore);
            early = BufferPool.Rent<T>(n * c);
            CrossEntropyKernel.ForwardBackward(xa, n, c, tgt, w, ignore, eps, loss, rowMax, invSum, rowW, scale1, early);
            BufferPool.Return(scale1);
        }
        else CrossEntropyKernel.Forward(xa, n, c, tgt, w, ignore, eps, loss, rowMax, invSum, rowW);
        double denom = 0, total = 0;
        for (int i = 0; i < n; i++) { denom += rowW[i]; total += loss[i]; }
        var y = ReduceRows<T>(loss, total, denom, reduction, outShape);
        BufferPool.Return(loss);
        BufferPool.Return(rowW);
        var saved = new CrossEntropySaved<T>(xa, n, c, tgt, w, ignore, eps, rowMax, invSum, reduction, denom) { Early = early };
        var r = Autograd.Record(y, "CrossEntropyBackward", [x2], Derivatives.Fused(saved, static (g, sink, s) =>
        {
            var (xa, n, c, tgt, w, ignore, eps, rowMax, invSum, reduction, denom) = s;
            // Handed out once: a second backward (retain_graph) must not get a buffer the engine may have adopted.
            // The early gradient is handed to the engine, which adopts it as x's gradient or adds it and recycles it.
            if (s.Early != null && g.ItemDouble() == 1.0) { var e = s.Early; s.Early = null; sink.AddOwned(0, Tensor.Wrap(e, [n, c])); return; }
            if (s.Early != null) { BufferPool.Return(s.Early); s.Early = null; }
            var scale = RowScales(g, reduction, n, denom, tgt, ignore);
            CrossEntropyKernel.Backward(xa, n, c, tgt, w, ignore, eps, rowMax, invSum, scale, sink.Overwrite<T>(0));
            BufferPool.Return(scale);
        }), x2);
        return Autograd.ReleaseScratchWithGraph(r, rowMax, invSum);
    }

    /// <summary>The output of a per-row classification loss: the rows (None), their sum, or the sum over the summed weights (Mean).</summary>
    private static Tensor ReduceRows<T>(double[] loss, double total, double denom, Reduction reduction, int[] outShape) where T : unmanaged, IFloatingPointIeee754<T> => reduction switch
    {
        Reduction.None => Tensor.Wrap(Array.ConvertAll(loss, v => T.CreateTruncating(v)), outShape),
        Reduction.Sum => Tensor.Wrap(new[] { T.CreateTruncating(total) }, []),
        _ => Tensor.Wrap(new[] { T.CreateTruncating(total / denom) }, []),
    };

    /// <summary>The factor each row's gradient is multiplied by: the upstream gradient, divided by the mean's denominator.</summary>
    private static double[] RowScales(Tensor g, Reduction reduction, int n, double denom, long[] tgt, long ignore)
    {
        if (reduction == Reduction.None) { var scale = BufferPool.Rent<double>(n); var gv = g.ToDoubleArray(); Array.Copy(gv, scale, n); return scale; }
        return RowScales(g.ItemDouble(), reduction, n, denom, tgt, ignore);
    }

    /// <summary><see cref="RowScales(Tensor, Reduction, int, double, long[], long)"/> of a reduced loss with scalar upstream gradient <paramref name="s"/>.</summary>
    private static double[] RowScales(double s, Reduction reduction, int n, double denom, long[] tgt, long ignore)
    {
        var scale = BufferPool.Rent<double>(n);
        if (reduction == Reduction.Mean) s /= denom;
        // As in PyTorch: an ignored row gets a zero gradient even when every target is ignored (the mean is 0/0 = NaN),
        // while a row whose class weight is 0 in a zero total weight gets 0·(g/0) = NaN.
        for (int i = 0; i < n; i++) scale[i] = tgt[i] == ignore ? 0 : s;
        return scale;
    }

    /// <summary>
    /// Negative log-likelihood of log-probabilities (PyTorch's <c>F.nll_loss</c>): ℓₙ = −w[yₙ]·x[n, yₙ] (0 where ignored).
    /// Mean divides by Σ w[yₙ] over non-ignored targets. Shapes as <see cref="CrossEntropy"/> with class-index targets:
    /// input (N, C), (C) or (N, C, d1, …); target int64 (N), () or (N, d1, …); weight (C). One fused autograd node.
    /// </summary>
    public static Tensor NllLoss(Tensor input, Tensor target, Tensor? weight = null, long ignoreIndex = -100, Reduction reduction = Reduction.Mean)
    {
        const string L = "nll_loss";
        LossCheck.Reduction(L, reduction);
        LossCheck.Float(L, "input", input);
        int c = ClassCount(L, input);
        var w = CheckWeight(L, weight, c, input);
        var (x2, tgt, outShape) = ClassLayout(L, input, target, ignoreIndex, c);
        return input.DType == DType.Float32
            ? NllFused<float>(x2, tgt, w, ignoreIndex, reduction, outShape)
            : NllFused<double>(x2, tgt, w, ignoreIndex, reduction, outShape);
    }

    private static Tensor NllFused<T>(Tensor x2, long[] tgt, Tensor? weight, long ignore, Reduction reduction, int[] outShape)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        int n = x2.Dims[0], c = x2.Dims[1];
        var xa = x2.DenseData<T>();
        var w = weight?.DenseData<T>();
        var loss = new double[n];
        var rowW = new double[n];
        double total = 0, denom = 0;
        for (int i = 0; i < n; i++)
        {
            long t = tgt[i];
            if (t == ignore) continue;
            double wt = w == null ? 1 : double.CreateTruncating(w[t]);
            loss[i] = -wt * double.CreateTruncating(xa[i * c + t]);
            rowW[i] = wt;
            total += loss[i];
            denom += wt;
        }
        var y = ReduceRows<T>(loss, total, denom, reduction, outShape);
        return Autograd.Record(y, "NllLossBackward", [x2], Derivatives.Fused(new NllSaved(n, c, tgt, ignore, reduction, denom, rowW), static (g, saved) =>
        {
            var (n, c, tgt, ignore, reduction, denom, rowW) = saved;
            var scale = RowScales(g, reduction, n, denom, tgt, ignore);
            var grad = new T[n * c];
            for (int i = 0; i < n; i++)
                if (tgt[i] != ignore) grad[i * c + tgt[i]] = T.CreateTruncating(-scale[i] * rowW[i]);
            return [Tensor.Wrap(grad, [n, c])];
        }), x2);
    }

    /// <summary>What nll_loss's backward reads: the shape (n, c), targets, options, the weight sum and each row's weight.</summary>
    private sealed record NllSaved(int N, int C, long[] Targets, long Ignore, Reduction Reduction, double Denom, double[] RowWeight);

    /// <summary>Expands an optional weight (any shape broadcastable to the input) to a dense array of the input's shape.</summary>
    private static T[]? Expanded<T>(string loss, string arg, Tensor? t, Tensor input) where T : unmanaged
    {
        if (t == null) return null;
        LossCheck.Float(loss, arg, t);
        int[] shape;
        try { shape = Tensor.BroadcastShapes(t.Dims, input.Dims, loss); }
        catch (ArgumentException) { shape = []; }
        if (!shape.AsSpan().SequenceEqual(input.Dims))
            throw new ArgumentException($"{loss}: {arg} of shape {t.ShapeString} cannot be broadcast to the input shape {input.ShapeString}.", arg);
        return t.Detach().To(input.DType).Expand(input.Dims).DenseData<T>();
    }

    /// <summary>
    /// Binary cross-entropy between probabilities and targets (PyTorch's <c>F.binary_cross_entropy</c>):
    /// ℓ = −w·[t·log x + (1 − t)·log(1 − x)], each log clamped at −100 so that x = 0 or 1 gives a finite loss.
    /// Shapes: input and target identical (any shape); weight broadcastable to it. Mean averages over all elements.
    /// Gradients as PyTorch: ∂/∂x = w(x − t)/max(x(1 − x), 1e−12), ∂/∂t = w(log(1 − x) − log x).
    /// Input outside [0, 1] (or NaN) is rejected: if it holds logits, use <see cref="BinaryCrossEntropyWithLogits"/>.
    /// </summary>
    public static Tensor BinaryCrossEntropy(Tensor input, Tensor target, Tensor? weight = null, Reduction reduction = Reduction.Mean)
    {
        const string L = "binary_cross_entropy";
        LossCheck.ElementwisePair(L, reduction, input, target);
        LossCheck.SameDType(L, input, target, "target");
        return input.DType == DType.Float32 ? Bce<float>(input, target, weight, reduction) : Bce<double>(input, target, weight, reduction);
    }

    private static Tensor Bce<T>(Tensor input, Tensor target, Tensor? weight, Reduction reduction) where T : unmanaged, IFloatingPointIeee754<T>
    {
        const string L = "binary_cross_entropy";
        var x = input.DenseData<T>();
        var t = target.DenseData<T>();
        var w = Expanded<T>(L, "weight", weight, input);
        for (int i = 0; i < x.Length; i++)
            if (!(x[i] >= T.Zero && x[i] <= T.One))
                throw new ArgumentOutOfRangeException(nameof(input), $"{L}: input values must be probabilities in [0, 1], found {x[i]} at flat index {i}. If the model outputs raw scores (logits), use BCEWithLogitsLoss (Functional.BinaryCrossEntropyWithLogits), which applies the sigmoid itself and is numerically stable.");
        var each = GC.AllocateUninitializedArray<T>(x.Length); // every element is written below
        double total = 0;
        T floor = T.CreateTruncating(-100.0);
        for (int i = 0; i < x.Length; i++)
        {
            // PyTorch clamps each log at −100 so that a confident wrong prediction costs 100, not infinity.
            T lx = T.Max(T.Log(x[i]), floor), l1x = T.Max(T.Log(T.One - x[i]), floor);
            T v = -(t[i] * lx + (T.One - t[i]) * l1x);
            if (w != null) v *= w[i];
            each[i] = v;
            total += double.CreateTruncating(v);
        }
        var y = ReduceEach(each, total, input.Dims, reduction);
        var shape = input.Dims;
        return Autograd.Record(y, "BinaryCrossEntropyBackward", [input, target], Derivatives.Fused(new BceSaved<T>(x, t, w, shape, reduction, input.RequiresGrad, target.RequiresGrad), static (g, saved) =>
        {
            var (x, t, w, shape, reduction, needX, needT) = saved;
            var (gEach, scale) = Upstream<T>(g, reduction, x.Length);
            // The kernels write every element: no need for the runtime to zero these first.
            T[]? gx = needX ? GC.AllocateUninitializedArray<T>(x.Length) : null, gt = needT ? GC.AllocateUninitializedArray<T>(x.Length) : null;
            T epsilon = T.CreateTruncating(1e-12);
            for (int i = 0; i < x.Length; i++)
            {
                T gi = (gEach == null ? scale : gEach[i] * scale) * (w == null ? T.One : w[i]);
                if (gx != null) gx[i] = gi * (x[i] - t[i]) / T.Max((T.One - x[i]) * x[i], epsilon);
                if (gt != null) gt[i] = gi * (T.Log(T.One - x[i]) - T.Log(x[i]));
            }
            return [gx == null ? null : Tensor.Wrap(gx, shape), gt == null ? null : Tensor.Wrap(gt, shape)];
        }), input, target);
    }

    /// <summary>What binary_cross_entropy's backward reads: dense probabilities, targets, weights, the shape, the reduction and which inputs want gradients.</summary>
    private sealed record BceSaved<T>(T[] X, T[] Target, T[]? Weight, int[] Shape, Reduction Reduction, bool NeedX, bool NeedT);

    /// <summary>Builds the reduced output of an elementwise loss from its per-element values and their sum.</summary>
    private static Tensor ReduceEach<T>(T[] each, double total, int[] shape, Reduction reduction) where T : unmanaged, IFloatingPointIeee754<T> => reduction switch
    {
        Reduction.None => Tensor.Wrap(each, (int[])shape.Clone()),
        Reduction.Sum => Tensor.Wrap(new[] { T.CreateTruncating(total) }, []),
        _ => Tensor.Wrap(new[] { T.CreateTruncating(total / each.Length) }, []),
    };

    /// <summary>The upstream gradient of an elementwise loss: per element (reduction None) or one scale (1/n for Mean).</summary>
    private static (T[]? each, T scale) Upstream<T>(Tensor g, Reduction reduction, int n) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (reduction == Reduction.None) return (g.DenseData<T>(), T.One);
        double s = g.ItemDouble();
        if (reduction == Reduction.Mean) s /= n;
        return (null, T.CreateTruncating(s));
    }

    /// <summary>
    /// Binary cross-entropy on logits (PyTorch's <c>F.binary_cross_entropy_with_logits</c>):
    /// ℓ = −w·[p·t·log σ(x) + (1 − t)·log(1 − σ(x))] with p = posWeight, computed as
    /// w·[(1 − t)·x + (1 + (p − 1)·t)·(log1p(e^−|x|) + max(−x, 0))], finite for logits of any size.
    /// Shapes: input and target identical; weight and posWeight broadcastable to it (posWeight usually (C), one per
    /// class of a multi-label problem). Mean averages over all elements. One fused autograd node; the target is differentiable.
    /// </summary>
    public static Tensor BinaryCrossEntropyWithLogits(Tensor input, Tensor target, Tensor? weight = null, Tensor? posWeight = null, Reduction reduction = Reduction.Mean)
    {
        const string L = "binary_cross_entropy_with_logits";
        LossCheck.Reduction(L, reduction);
        LossCheck.Float(L, "input", input);
        if (!target.IsFloatingPoint)
            throw new ArgumentException($"{L}: target must be float 0/1 labels (or probabilities) of the input's shape, got {Tensor.DTypeName(target.DType)}; convert with target.ToFloat32().", nameof(target));
        LossCheck.SameShape(L, input, target);
        LossCheck.SameDType(L, input, target, "target");
        return input.DType == DType.Float32 ? BceLogits<float>(input, target, weight, posWeight, reduction) : BceLogits<double>(input, target, weight, posWeight, reduction);
    }

    private static Tensor BceLogits<T>(Tensor input, Tensor target, Tensor? weight, Tensor? posWeight, Reduction reduction) where T : unmanaged, IFloatingPointIeee754<T>
    {
        const string L = "binary_cross_entropy_with_logits";
        var x = input.DenseData<T>();
        var t = target.DenseData<T>();
        var w = Expanded<T>(L, "weight", weight, input);
        var pw = Expanded<T>(L, "pos_weight", posWeight, input);
        var each = reduction == Reduction.None ? GC.AllocateUninitializedArray<T>(x.Length) : null;
        // As cross_entropy: a reduced loss differentiated with upstream gradient 1 gets its input gradient from the
        // forward pass (bit-identical to the backward's), handed out once.
        T[]? early = reduction != Reduction.None && input.RequiresGrad && !target.RequiresGrad && Autograd.IsGradEnabled
            ? BufferPool.Rent<T>(x.Length) : null;
        T scale1 = T.CreateTruncating(reduction == Reduction.Mean ? 1.0 / x.Length : 1.0);
        double total = BceLogitsKernel.ForwardBackward(x, t, w, pw, each, scale1, early);
        var y = each != null ? Tensor.Wrap(each, input.Shape) : ReduceEach(Array.Empty<T>(), total, input.Dims, Reduction.Sum);
        if (reduction == Reduction.Mean) y = Tensor.Wrap(new[] { T.CreateTruncating(total / x.Length) }, []);
        var shape = input.Dims;
        var saved = new BceLogitsSaved<T>(x, t, w, pw, shape, reduction) { Early = early };
        return Autograd.Record(y, "BinaryCrossEntropyWithLogitsBackward", [input, target], Derivatives.Fused(saved, static (g, sink, s) =>
        {
            var (x, t, w, pw, shape, reduction) = s;
            if (s.Early != null && g.ItemDouble() == 1.0) { var e = s.Early; s.Early = null; sink.AddOwned(0, Tensor.Wrap(e, shape)); return; }
            if (s.Early != null) { BufferPool.Return(s.Early); s.Early = null; }
            var (gEach, scale) = Upstream<T>(g, reduction, x.Length);
            // The kernel writes every element of both, straight into the engine's buffers.
            BceLogitsKernel.Backward(x, t, w, pw, scale, gEach, sink.Needs(0) ? sink.Overwrite<T>(0) : null, sink.Needs(1) ? sink.Overwrite<T>(1) : null);
        }), input, target);
    }

    /// <summary>
    /// What binary_cross_entropy_with_logits' backward reads: dense logits, targets, weights, pos_weight, the shape, the
    /// reduction — and the input gradient computed in the forward, handed over once if the upstream is 1.
    /// </summary>
    private sealed record BceLogitsSaved<T>(T[] X, T[] Target, T[]? Weight, T[]? PosWeight, int[] Shape, Reduction Reduction)
    {
        public T[]? Early;
    }

    /// <summary>
    /// Focal loss on logits for binary or multi-label problems (torchvision's <c>sigmoid_focal_loss</c>, Lin et al. 2017):
    /// p = σ(x), ce = BCE-with-logits(x, t), p_t = p·t + (1 − p)(1 − t), ℓ = α_t·ce·(1 − p_t)^γ with α_t = α·t + (1 − α)(1 − t)
    /// (no α term when α &lt; 0). Down-weights easy examples so rare positives dominate. Shapes: input and target identical.
    /// Defaults as torchvision: α = 0.25, γ = 2, reduction None.
    /// </summary>
    public static Tensor SigmoidFocalLoss(Tensor input, Tensor target, double alpha = 0.25, double gamma = 2, Reduction reduction = Reduction.None)
    {
        const string L = "sigmoid_focal_loss";
        LossCheck.ElementwisePair(L, reduction, input, target);
        if (gamma < 0) throw new ArgumentOutOfRangeException(nameof(gamma), gamma, $"{L}: gamma must be non-negative, got {gamma}.");
        var p = input.Sigmoid();
        var ce = BinaryCrossEntropyWithLogits(input, target, reduction: Reduction.None);
        var pt = p * target + (1 - p) * (1 - target);
        var loss = gamma == 0 ? ce : ce * (1 - pt).Pow(gamma);
        if (alpha >= 0) loss = (target * alpha + (1 - target) * (1 - alpha)) * loss;
        return LossCheck.Reduce(loss, reduction);
    }

    /// <summary>
    /// Softmax focal loss for multi-class imbalance: ℓₙ = −α[yₙ]·(1 − p_{yₙ})^γ·log p_{yₙ}, p = softmax(xₙ). γ = 0 with no α is
    /// plain cross-entropy. Shapes: input (N, C) or (N, C, d1, …); target int64 (N) / (N, d1, …); alpha (C) per-class weights
    /// (default none). Mean averages over non-ignored targets (Kindling's definition; there is no PyTorch counterpart).
    /// </summary>
    public static Tensor SoftmaxFocalLoss(Tensor input, Tensor target, Tensor? alpha = null, double gamma = 2, long ignoreIndex = -100, Reduction reduction = Reduction.Mean)
    {
        const string L = "softmax_focal_loss";
        LossCheck.Reduction(L, reduction);
        LossCheck.Float(L, "input", input);
        if (gamma < 0) throw new ArgumentOutOfRangeException(nameof(gamma), gamma, $"{L}: gamma must be non-negative, got {gamma}.");
        int c = ClassCount(L, input);
        var a = CheckWeight(L, alpha, c, input);
        var (x2, tgt, outShape) = ClassLayout(L, input, target, ignoreIndex, c);
        var keep = tgt.Select(t => t != ignoreIndex).ToArray();
        var idx = Tensor.FromArray(tgt.Select(t => t == ignoreIndex ? 0L : t).ToArray(), tgt.Length, 1);
        var logpt = x2.LogSoftmax(1).Gather(1, idx).Squeeze(1);
        var pt = logpt.Exp();
        var loss = -(gamma == 0 ? logpt : (1 - pt).Pow(gamma) * logpt);
        if (a != null) loss = loss * a.Gather(0, idx.Squeeze(1));
        var mask = Tensor.FromArray(keep).To(input.DType);
        loss = (loss * mask).Reshape(outShape);
        return reduction switch
        {
            Reduction.None => loss,
            Reduction.Sum => loss.Sum(),
            _ => loss.Sum() / keep.Count(k => k),
        };
    }

    /// <summary>
    /// Multi-label one-versus-all loss (PyTorch's <c>F.multilabel_soft_margin_loss</c>):
    /// ℓₙ = −(1/C)·Σ_c w[c]·[t·log σ(x) + (1 − t)·log σ(−x)]. Shapes: input and target (N, C) or (C); weight (C).
    /// Reduction over the N per-sample values.
    /// </summary>
    public static Tensor MultilabelSoftMarginLoss(Tensor input, Tensor target, Tensor? weight = null, Reduction reduction = Reduction.Mean)
    {
        const string L = "multilabel_soft_margin_loss";
        LossCheck.ElementwisePair(L, reduction, input, target);
        if (input.Rank == 0) throw new ArgumentException($"{L}: input must be (C) or (N, C), got a scalar.", nameof(input));
        // log σ(x) = −softplus(−x): never takes the log of an underflowed sigmoid.
        var loss = -(target * -(-input).Softplus() + (1 - target) * -input.Softplus());
        if (weight != null)
        {
            LossCheck.Float(L, "weight", weight);
            loss = loss * weight;
        }
        int c = input.Dims[^1];
        var each = loss.Sum(-1) / c;
        return LossCheck.Reduce(each, reduction);
    }
}
