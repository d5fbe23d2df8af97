using Kindling.NN;
using Kindling.Optim;

namespace Kindling.Tests;

/// <summary>
/// The engine's one gradient path (GradSink) and its buffer recycling: bytes allocated per steady-state training step,
/// and that no buffer a user can still reach is ever reused.
/// </summary>
public class GradientPathTests
{
    private static (Sequential model, Tensor[] xs, Tensor[] ys) Mlp(int seed, bool sigmoid = false)
    {
        var g = new Generator((ulong)seed);
        var model = new Sequential(new Linear(20, 64, generator: g), sigmoid ? new Sigmoid() : new ReLU(), new Linear(64, 32, generator: g), new Tanh(), new Linear(32, 3, generator: g));
        var xs = Enumerable.Range(0, 4).Select(_ => Tensor.Randn([32, 20], g)).ToArray();
        var ys = Enumerable.Range(0, 4).Select(_ => Tensor.RandInt(0, 3, [32], g)).ToArray();
        return (model, xs, ys);
    }

    /// <summary>
    /// A steady-state step of a small MLP (forward, cross-entropy, backward, optimizer) allocates only its graph's small
    /// objects: activations and gradients come from the buffer pool. Before pooling such a step allocated ~60 KiB
    /// (its activations and gradients alone are 8 × 32 × 64 floats); the limit catches any of them coming back.
    /// </summary>
    [Theory]
    [InlineData("sgd")]
    [InlineData("adam")]
    public void TrainingStepAllocatesLittle(string opt)
    {
        var (model, xs, ys) = Mlp(3);
        Optimizer o = opt == "sgd" ? new SGD(model.Parameters(), 0.01, momentum: 0.9) : new Adam(model.Parameters(), 1e-3);
        int k = 0;
        void Step()
        {
            o.ZeroGrad();
            var loss = Functional.CrossEntropy(model.Call(xs[k % 4]), ys[k % 4]);
            loss.Backward();
            o.Step();
            k++;
        }
        for (int i = 0; i < 30; i++) Step();
        const int steps = 50;
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < steps; i++) Step();
        double perStep = (GC.GetAllocatedBytesForCurrentThread() - before) / (double)steps;
        Assert.True(perStep < 12 * 1024, $"a steady-state step allocated {perStep:F0} bytes (limit 12 KiB)");
    }

    /// <summary>Recycling never touches what the user holds: the model's output, a retained gradient, an adopted .Grad.</summary>
    [Fact]
    public void UserVisibleTensorsSurviveLaterSteps()
    {
        var (model, xs, ys) = Mlp(5, sigmoid: true);
        var o = new SGD(model.Parameters(), 0.1);
        var w0 = model.Parameters().First();
        o.ZeroGrad(setToNone: true);
        var out1 = model.Call(xs[0]);
        out1.RetainGrad();
        Functional.CrossEntropy(out1, ys[0]).Backward();
        var outVals = out1.ToArray();
        var outGrad = out1.Grad!;
        var outGradVals = outGrad.ToArray();
        var heldGrad = w0.Grad!;
        var heldGradVals = heldGrad.ToArray();
        for (int i = 1; i < 12; i++)
        {
            o.ZeroGrad(setToNone: true);
            Functional.CrossEntropy(model.Call(xs[i % 4]), ys[i % 4]).Backward();
            o.Step();
        }
        Assert.Equal(outVals, out1.ToArray());
        Assert.Equal(outGradVals, outGrad.ToArray());
        Assert.Equal(heldGradVals, heldGrad.ToArray());
        Assert.NotSame(heldGrad, w0.Grad);
    }

    /// <summary>Intermediates the user built outside Sequential are theirs: later steps never reuse their buffers.</summary>
    /// <summary>
    /// A fused loss's gradient computed in its forward is handed to the engine (GradSink.AddOwned): adopted as the
    /// input's gradient when it has none (a gradient the user then holds must never be recycled), added when it has one,
    /// and equal to the separate backward's (upstream gradient 2 takes that path) in both cases.
    /// </summary>
    [Theory]
    [InlineData("ce")]
    [InlineData("bce")]
    public void EarlyLossGradientIsAdoptedOrAddedNeverRecycledUnderTheUser(string loss)
    {
        var g = new Generator(11);
        var x = Tensor.Randn([64, 40], g).RequiresGrad_();
        var t = loss == "ce" ? Tensor.RandInt(0, 40, [64], g) : Tensor.Rand([64, 40], g);
        Tensor L() => loss == "ce" ? Functional.CrossEntropy(x, t) : Functional.BinaryCrossEntropyWithLogits(x, t);
        L().Backward();
        var held = x.Grad!;
        var first = held.ToArray();
        // The separate backward with upstream gradient 2 gives twice the early gradient.
        x.Grad = null;
        L().Backward(Tensor.Scalar(2f));
        var twice = x.Grad!.ToArray();
        for (int i = 0; i < first.Length; i++) Assert.Equal(2 * first[i], twice[i], 1e-6f);
        // Accumulation into an existing gradient, then many more steps: the held gradient never changes.
        L().Backward();
        var sum = x.Grad!.ToArray();
        for (int i = 0; i < first.Length; i++) Assert.Equal(3 * first[i], sum[i], 1e-6f);
        for (int k = 0; k < 20; k++) { x.Grad = null; L().Backward(); }
        Assert.Equal(first, held.ToArray());
    }

    /// <summary>
    /// Evaluation under NoGrad recycles the values Sequential passes between built-in layers at once (no graph holds
    /// them): a steady-state batch allocates far less than its activations (64 × (64 + 32) floats = 24 KiB), and the
    /// outputs the caller holds are never overwritten by later batches.
    /// </summary>
    [Fact]
    public void NoGradEvaluationRecyclesIntermediates()
    {
        var (model, xs, _) = Mlp(5);
        model.Eval();
        Tensor[] Run() { using (Autograd.NoGrad()) return xs.Select(x => model.Call(x)).ToArray(); }
        var held = Run();
        var copies = held.Select(h => h.ToArray()).ToArray();
        for (int k = 0; k < 10; k++) Run();
        long before = GC.GetAllocatedBytesForCurrentThread();
        const int rounds = 20;
        for (int k = 0; k < rounds; k++) Run();
        double perBatch = (GC.GetAllocatedBytesForCurrentThread() - before) / (double)(rounds * xs.Length);
        Assert.True(perBatch < 8 * 1024, $"{perBatch:F0} bytes allocated per evaluated batch (limit 8 KiB)");
        for (int j = 0; j < held.Length; j++) Assert.Equal(copies[j], held[j].ToArray());
        // Same values as a graph-recording forward.
        Assert.Equal(model.Call(xs[0]).ToArray(), copies[0]);
    }

    [Fact]
    public void HandBuiltIntermediatesAreNotRecycled()
    {
        var g = new Generator(9);
        var l1 = new Linear(8, 16, generator: g);
        var l2 = new Linear(16, 2, generator: g);
        var x = Tensor.Randn([4, 8], g);
        var h = l1.Call(x);
        var r = h.Relu();
        l2.Call(r).Sum().Backward();
        var hv = h.ToArray();
        var rv = r.ToArray();
        for (int i = 0; i < 6; i++) l2.Call(l1.Call(Tensor.Randn([4, 8], g)).Relu()).Sum().Backward();
        Assert.Equal(hv, h.ToArray());
        Assert.Equal(rv, r.ToArray());
    }

    /// <summary>
    /// One input feeding several consumers gets the sum of their gradients, whichever way each closure delivers it
    /// (a GEMM into the engine's buffer, a kernel overwrite, or a finished tensor), and the result matches float64
    /// finite differences.
    /// </summary>
    [Fact]
    public void SharedInputsAccumulateThroughEveryDeliveryPath()
    {
        var g = new Generator(11);
        var w = Tensor.Randn([3, 5], g, DType.Float64).RequiresGrad_();
        var b = Tensor.Randn([3], g, DType.Float64).RequiresGrad_();
        var x = Tensor.Randn([4, 5], g, DType.Float64).RequiresGrad_();
        GradCheck.Check(a =>
        {
            var h = Functional.Linear(a[0], a[1], a[2]);
            var twice = Functional.Linear(a[0], a[1]);            // the same weight and input again: β = 1 accumulation
            var t = Tensor.Randn([4, 3], new Generator(1), DType.Float64);
            var l = Functional.MseLoss(h, t) + Functional.MseLoss(twice.Relu() + h.Sigmoid(), t);
            return l + (a[0] * a[0]).Sum();                     // x reaches a leaf through two more paths
        }, [x, w, b]);
    }

    /// <summary>Gradients accumulate across backward calls into the same .Grad tensor, in place.</summary>
    [Fact]
    public void LeafGradientsAccumulateAcrossBackwardCalls()
    {
        var g = new Generator(2);
        var lin = new Linear(6, 4, generator: g);
        var x = Tensor.Randn([5, 6], g);
        lin.Call(x).Sum().Backward();
        var first = lin.Weight.Grad!;
        var once = first.ToArray();
        lin.Call(x).Sum().Backward();
        Assert.Same(first, lin.Weight.Grad);
        var twice = lin.Weight.Grad!.ToArray();
        for (int i = 0; i < once.Length; i++) Assert.Equal(2 * once[i], twice[i], 5);
    }
}
