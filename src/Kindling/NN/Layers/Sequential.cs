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
            // A value passed between two built-in layers that return a fresh buffer and keep nothing is dead once the
            // second has run (see Autograd.ReleaseAfterUse). User-defined layers could keep their input or output, or
            // return a view of it, so their neighbours' values are left alone.
            if (i > 0 && FreshOutput(_layers[i - 1]) && FreshOutput(_layers[i])) Autograd.ReleaseAfterUse(x, y);
            x = y;
        }
        return x;
    }

    /// <summary>Layers whose forward returns a new buffer (never its input or a view of it) and stores neither.</summary>
    private static bool FreshOutput(Module m) => m is Linear || m.ReturnsFreshBuffer;
}
