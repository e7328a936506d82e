//! [`PinnJitDevice`]: where a pinn-jit tensor lives.

use burn_backend::{DeviceId, DeviceOps};
use burn_std::device::Device;

/// The device of a [`PinnJitBackend`](crate::PinnJitBackend) tensor.
///
/// An enum so that accelerators can join later (a `Cuda(index)` variant delegating to
/// burn-cuda is planned) without changing the type users write. Today every tensor lives on
/// the host CPU.
///
/// ```
/// use pinn_jit::PinnJitDevice;
/// assert_eq!(PinnJitDevice::default(), PinnJitDevice::Cpu);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum PinnJitDevice {
    /// The host CPU: compiled kernels and burn-flex run here.
    #[default]
    Cpu,
}

/// Device-type tag in [`DeviceId`]s, distinct from Burn's own backends so that the per-device
/// services Burn keeps (the fusion server thread among them) never mix ours with theirs.
const CPU_TYPE_ID: u16 = 0x5049; // "PI"

impl Device for PinnJitDevice {
    fn from_id(device_id: DeviceId) -> Self {
        assert_eq!(
            device_id.type_id, CPU_TYPE_ID,
            "PinnJitDevice::from_id: unknown device type {} (only Cpu = {CPU_TYPE_ID} exists)",
            device_id.type_id
        );
        PinnJitDevice::Cpu
    }

    fn to_id(&self) -> DeviceId {
        match self {
            PinnJitDevice::Cpu => DeviceId::new(CPU_TYPE_ID, 0),
        }
    }
}

impl DeviceOps for PinnJitDevice {}

impl core::fmt::Display for PinnJitDevice {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            PinnJitDevice::Cpu => write!(f, "Cpu"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_id_round_trips() {
        let device = PinnJitDevice::Cpu;
        assert_eq!(PinnJitDevice::from_id(device.to_id()), device);
    }

    #[test]
    #[should_panic(expected = "unknown device type")]
    fn foreign_device_id_is_rejected() {
        PinnJitDevice::from_id(DeviceId::new(7, 0));
    }
}
