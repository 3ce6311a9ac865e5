import CSQLite
import NIS2Reporting
