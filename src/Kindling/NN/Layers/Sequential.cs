namespace Kindling.NN;

/// <summary>Runs its children in order (PyTorch's <c>nn.Sequential</c>); their state-dict names are 0, 1, 2, ...</summary>
public sealed class Sequential : Module
{
    private readonly List<Module> _layers = [];

    public Sequential(params Module[] layers)
    {
        foreach (var l in layers) Add(l);
    }

    /// <summary>Appends a layer named by its position.</summary>
    public Sequential Add(Module layer)
    {
        _layers.Add(RegisterModule(_layers.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), layer));
        return this;
    }

    /// <summary>The layer at <paramref name="index"/>.</summary>
    public Module this[int index] => _layers[index];

    /// <summary>Number of layers.</summary>
    public int Count => _layers.Count;

    public override Tensor Forward(Tensor input)
    {
        var x = input;
        for (int i = 0; i < _layers.Count; i++)
        {
            var y = _layers[i].Call(x);
            // Without a graph (evaluation under NoGrad, or a frozen model), a value passed between two built-in layers
            // is dead as soon as the second has run: nothing saved it and it is neither the input nor the output.
            if (i > 0 && x.GradFn == null && y.GradFn == null && FreshOutput(_layers[i - 1]) && FreshOutput(_layers[i])
                && x.Offset == 0 && x.Storage.Data.Length == x.NumEl && x.Storage.GradLeaf == null && !ReferenceEquals(x.Storage, y.Storage))
                BufferPool.Return(x.Storage.Data);
            x = y;
            // A value passed between two built-in layers that return a fresh buffer and keep nothing is reachable only
            // through the graph: backward may recycle it (see Autograd.ReleaseWithGraph). User-defined layers could
            // keep their input or output, or return a view of it, so their neighbours' values are left alone.
            if (i + 1 < _layers.Count && FreshOutput(_layers[i]) && FreshOutput(_layers[i + 1])) Autograd.ReleaseWithGraph(x);
        }
        return x;
    }

    /// <summary>Layers whose forward returns a new buffer (never its input or a view of it) and stores neither.</summary>
    private static bool FreshOutput(Module m) => m is Linear or ReLU or Sigmoid or Tanh or GELU;
}
