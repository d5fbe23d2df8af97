namespace Kindling.NN;

/// <summary>Holds child modules under the names 0, 1, … (PyTorch's <c>nn.ModuleList</c>); it has no forward of its own.</summary>
public sealed class ModuleList : Module
{
    private readonly List<Module> _items = [];

    /// <summary>Appends <paramref name="module"/> as child "Count" and returns it.</summary>
    public T Add<T>(T module) where T : Module
    {
        _items.Add(RegisterModule(_items.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), module));
        return module;
    }

    public int Count => _items.Count;
    public Module this[int i] => _items[i];
}
