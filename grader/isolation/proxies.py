"""The grader's side of things that live in a worker: a course function called by name (Proxy), any other
object (Handle), a course module (ModuleView), and a course piece a worker asked the grader to run
(PieceRef). None of them holds the submission's code or data: every use is a request to the worker."""


class Proxy:
    """The submission's ``module.name``, called in the worker: same arguments, same results, as plain data."""

    def __init__(self, client, module, name):
        self._client, self.module, self.name = client, module, name
        self.__name__ = name

    def __repr__(self):
        return f'<{self.module}.{self.name} of the submission>'

    def __call__(self, *args, **kwargs):
        return self._client.call(f'{self.module}.{self.name}', args, kwargs, f'{self.module}.{self.name}')


class Handle:
    """An object that could not leave its worker (a torch model ...): calls and attribute reads are
    requests; ``probe`` runs one of grader.worker.probes.PROBES on it there. When the grader drops the
    handle, the worker may drop the object."""

    def __init__(self, client, process, number, typename, is_callable):
        self._client, self._process, self._number = client, process, number
        self.type_name, self._callable = typename, is_callable

    def __repr__(self):
        return f'<{self.type_name} in the worker>'

    def __call__(self, *args, **kwargs):
        return self._client.call(self, args, kwargs, f'{self.type_name.rsplit(".", 1)[-1]}(...)')

    def __getattr__(self, name):
        if name.startswith('__'):
            raise AttributeError(name)
        return self._client.request({'op': 'getattr', 'handle': self._number, 'name': name},
                                    f'{self.type_name.rsplit(".", 1)[-1]}.{name}', self._process)['value']

    def probe(self, name, *args):
        """grader.worker.probes.PROBES[name](this object, *args), run where the object lives."""
        return self._client.request({'op': 'probe', 'handle': self._number, 'name': name, 'args': list(args)},
                                    f'{name}({self.type_name.rsplit(".", 1)[-1]})', self._process)['value']

    def __del__(self):
        try:
            self._process.releases.append(self._number)
        except Exception:   # the interpreter is shutting down
            pass


class PieceRef:
    """The course's ``module.name``, which the submission's code called from the worker while the course's
    piece stands in for its own (grader.pieces); the grader has it run by the reference's worker."""

    def __init__(self, module, name):
        self.module, self.name = module, name

    def __repr__(self):
        return f"<the course's {self.module}.{self.name}>"


class ModuleView:
    """One course module of the submission: its functions as Proxies, or what stands in for them."""

    def __init__(self, client, name):
        self._client, self._name = client, name

    def __getattr__(self, attr):
        if attr.startswith('__'):
            raise AttributeError(attr)
        return self._client.attribute(self._name, attr)
